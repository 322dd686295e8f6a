"""Async-first Python SDK for the Intralinks API."""
