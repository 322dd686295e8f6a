"""The request pipeline of :class:`~intralinks_async.IntralinksClient`, one stage per module.

* ``body.py``      request bodies: bytes, one-shot streams, replayable body factories;
* ``builder.py``   the ``httpx.Request`` of one attempt, from pre-encoded parts;
* ``attempt.py``   one attempt over the transport (event hooks, generic auth, body read,
  the call's deadline);
* ``failures.py``  classifying transport failures and raising the typed error;
* ``rate.py``      client-wide adaptive rate control (:class:`RateController`);
* ``circuit.py``   the outage circuit (:class:`Circuit`);
* ``hooks.py``     the per-attempt hook (:class:`AttemptRecord`);
* ``log.py``       DEBUG logging;
* ``driver.py``    the loop that sequences them (:class:`Pipeline`); the retry rules live
  in ``intralinks_async._retry`` (:class:`~intralinks_async.RetryPolicy`).
"""

from __future__ import annotations

from intralinks_async._pipeline.body import NO_BODY, Body, BodyFactory, Content, encode_body
from intralinks_async._pipeline.circuit import Circuit
from intralinks_async._pipeline.driver import (
    ATTEMPTS_EXTENSION,
    OPERATION_EXTENSION,
    Call,
    Pipeline,
)
from intralinks_async._pipeline.hooks import AttemptHook, AttemptRecord
from intralinks_async._pipeline.rate import RateController, RateSnapshot

__all__ = [
    "ATTEMPTS_EXTENSION",
    "NO_BODY",
    "OPERATION_EXTENSION",
    "AttemptHook",
    "AttemptRecord",
    "Body",
    "BodyFactory",
    "Call",
    "Circuit",
    "Content",
    "Pipeline",
    "RateController",
    "RateSnapshot",
    "encode_body",
]
