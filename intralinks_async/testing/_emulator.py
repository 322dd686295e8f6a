"""The inspectable emulator object, reachable as ``app.state.emulator``."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from ._clock import Clock
from ._faults import FaultInjector
from ._oauth import DEFAULT_CLIENTS, OAuthState
from ._persist import Persistence
from ._state import CUSTOM_FIELD_TYPES, DataRoom
from ._storage import BlobStore
from ._throttle import Outage, OutageSwitch, RateLimit, RateLimiter


class Emulator:
    """State, configuration, counters and test helpers of one emulator app.

    Attributes tests commonly read:

    * ``oauth.token_requests`` / ``oauth.tokens_issued``: ``Counter`` by grant type;
      ``oauth.revocations``; ``oauth.auth_failures`` by reason.
    * ``requests``: ``Counter`` of API requests by operationId (faulted ones included).
    * ``total_requests``: every API request (throttled, faulted and failed ones included).
    * ``faults.injected``: ``Counter`` of faults served by kind (``429``, ``503``, ``drop``).
    * ``rate_limiter.throttled`` / ``rate_limiter.admitted``: 429s served by the rate
      limit / requests it let through; ``outages.served[kind]``: requests an outage failed.
    * ``documents_created[folder_id]``: documents created per folder (API and seeding);
      :meth:`duplicates` lists same-name documents in one folder.
    * ``room.workspaces``: the data itself (``WorkspaceRecord`` by id).
    """

    def __init__(
        self,
        *,
        clients: Mapping[str, str] | None = None,
        token_ttl: float = 3600,
        ranges: bool = True,
        fault_rate: float = 0.0,
        fault_seed: int | None = None,
        latency: float = 0.0,
        data_dir: str | os.PathLike[str] | None = None,
        retry_after: int = 1,
        max_page_size: int | None = None,
        rate_limit: RateLimit | float | None = None,
        outage: Outage | None = None,
    ) -> None:
        if not latency >= 0:  # also refuses NaN
            raise ValueError("latency must be a number of seconds >= 0")
        if max_page_size is not None and max_page_size < 1:
            raise ValueError("max_page_size must be None or >= 1")
        if not token_ttl > 0:
            raise ValueError("token_ttl must be a number of seconds > 0")
        self.clock = Clock()
        self.oauth = OAuthState(
            DEFAULT_CLIENTS if clients is None else clients, token_ttl, self.clock
        )
        self.faults = FaultInjector(fault_rate, fault_seed)
        self.store = BlobStore(data_dir)
        self.room = DataRoom(self.store, self.clock)
        # With a data dir, metadata is loaded from it and every change saved to it.
        self.persistence = Persistence(self.room, self.store) if self.store.persistent else None
        self.ranges = ranges
        self.latency = latency
        self.retry_after = retry_after
        self.max_page_size = max_page_size
        self.requests: Counter[str] = Counter()
        self.rate_limiter = RateLimiter(RateLimit.coerce(rate_limit))
        self.outages = OutageSwitch()
        if outage is not None:
            if not isinstance(outage, Outage):
                raise TypeError("outage must be an Outage")
            self.outages.schedule(outage)

    @property
    def total_requests(self) -> int:
        """API requests received (``/oauth/*`` excluded), whatever their outcome."""
        return self.requests.total()

    @property
    def documents_created(self) -> Counter[str]:
        """Documents created per folder id since start (deleted ones still counted)."""
        return self.room.documents_created

    def duplicates(self, workspace_id: str | None = None) -> dict[tuple[str, str, str], int]:
        """``{(workspace_id, folder_id, name): count}`` for names held by 2+ documents."""
        return self.room.duplicates(workspace_id)

    # -- OAuth helpers ------------------------------------------------------------------

    def issue_authorization_code(
        self,
        client_id: str = "demo",
        *,
        redirect_uri: str | None = None,
        user: str = "demo.user@example.com",
    ) -> str:
        """A one-time code for the ``authorization_code`` grant, as if ``user`` approved."""
        return self.oauth.issue_authorization_code(client_id, redirect_uri=redirect_uri, user=user)

    def advance_clock(self, seconds: float) -> None:
        """Move time forward (expires tokens and codes without sleeping)."""
        self.clock.advance(seconds)

    def revoke_all_tokens(self) -> None:
        """Invalidate every issued token."""
        self.oauth.revoke_all()

    # -- faults -------------------------------------------------------------------------

    def inject_fault(self, kind: str, count: int = 1, *, operation: str | None = None) -> None:
        """Serve ``kind`` (``"429"``, ``"503"``, ``"drop"``) to the next ``count`` requests."""
        self.faults.inject(kind, count, operation=operation)

    def outage(
        self,
        duration: float,
        kind: str = "503",
        *,
        operations: Iterable[str] | None = None,
        after: float = 0.0,
        retry_after: int | None = None,
    ) -> Outage:
        """Fail API requests (of ``operations``) for ``duration`` s from now (+ ``after``).

        ``kind`` is ``"503"`` or ``"drop"``; nothing is processed meanwhile. Returns the
        scheduled :class:`Outage`; :meth:`end_outage` ends it early.
        """
        ops = None if operations is None else frozenset(operations)
        spec = Outage(duration, kind, after, ops, retry_after)
        self.outages.schedule(spec, now=True)
        return spec

    def end_outage(self) -> None:
        """End every running or scheduled outage."""
        self.outages.clear()

    def set_rate_limit(self, limit: RateLimit | float | None) -> None:
        """Change the rate limit at runtime (``None`` removes it); the bucket starts full."""
        self.rate_limiter.configure(limit)

    # -- seeding ------------------------------------------------------------------------

    def seed_workspaces(self, n: int, *, prefix: str = "Workspace", type: str = "ATC") -> list[str]:
        """Create ``n`` workspaces named ``<prefix> <i>`` directly; returns their ids."""
        width = len(str(n))
        ids = [
            self.room.create_workspace({"name": f"{prefix} {i:0{width}d}", "type": type}).meta["id"]
            for i in range(1, n + 1)
        ]
        self.commit()
        return ids

    def seed_folder(self, workspace_id: str, name: str, parent_id: str | None = None) -> str:
        """Create a folder directly; returns its id."""
        body: dict[str, Any] = {"name": name}
        if parent_id is not None:
            body["parentId"] = parent_id
        folder = self.room.create_folder(self.room.workspace(workspace_id), body)
        self.commit()
        return str(folder["id"])

    def seed_document(
        self,
        workspace_id: str,
        folder_id: str,
        name: str,
        content: bytes,
        *,
        note: str | None = None,
        by: str = "demo",
    ) -> str:
        """Store a document directly; returns its id."""
        ws = self.room.workspace(workspace_id)
        self.room.folder(ws, folder_id)
        blob = self.store.put(content)
        meta = self.room.add_document(
            ws, folder_id=folder_id, name=name, note=note, blob=blob, by=by
        )
        self.commit()
        return str(meta["id"])

    def seed_custom_fields(
        self, workspace_id: str, fields: Iterable[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """Define custom fields (``name``, ``type`` TEXT/DATE/SELECT, ``isRequired``, ``options``)."""
        ws = self.room.workspace(workspace_id)
        added = []
        for spec in fields:
            kind = spec.get("type", "TEXT")
            if kind not in CUSTOM_FIELD_TYPES:
                raise ValueError(f"custom field type must be one of {CUSTOM_FIELD_TYPES}")
            item: dict[str, Any] = {
                "id": self.room.new_id(),
                "name": str(spec["name"]),
                "type": kind,
                "isRequired": bool(spec.get("isRequired", False)),
            }
            if kind == "SELECT" or "options" in spec:
                item["options"] = [str(o) for o in spec.get("options", [])]
            self.room.add_custom_field(ws, item)
            added.append(item)
        self.commit()
        return added

    def replace_document_content(self, workspace_id: str, document_id: str, content: bytes) -> None:
        """Change a document's bytes (not possible through the API): new ETag and fileHash."""
        ws = self.room.workspace(workspace_id)
        doc = self.room.document(ws, document_id)
        self.room.replace_content(ws, doc, self.store.put(content))
        self.commit()

    def document_path(self, workspace_id: str, document_id: str) -> str:
        """Path of the file holding a document's current content."""
        ws = self.room.workspace(workspace_id)
        return str(self.room.document(ws, document_id).blob.path)

    def commit(self) -> None:
        """Save the changes made since the last call (no-op without a data dir).

        The app calls it after every API request; call it after changing ``room``
        directly. The seeding helpers call it themselves.
        """
        if self.persistence is not None:
            self.persistence.commit()

    def close(self) -> None:
        """Save and release a given data dir, or remove the temporary one."""
        try:
            if self.persistence is not None:
                persistence, self.persistence = self.persistence, None
                persistence.close()
        finally:
            self.store.close()
