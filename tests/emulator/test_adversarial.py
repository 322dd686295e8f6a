"""Adversarial review: inputs and sequences that once crashed the emulator or let an
SDK mistake through that the real service would refuse. In-process only (fast)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from intralinks_async.testing import Emulator, create_app

CLIENT = {"client_id": "demo", "client_secret": "demo-secret"}
CREDS = {"grant_type": "client_credentials", **CLIENT}


@pytest.fixture
async def app() -> AsyncIterator[Any]:
    application = create_app()
    yield application
    application.state.emulator.close()


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        tok = (await client.post("/oauth/token", data=CREDS)).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {tok}"
        yield client


def _emu(app: Any) -> Emulator:
    emu: Emulator = app.state.emulator
    return emu


async def _doc(app: Any, content: bytes = b"0123456789") -> str:
    emu = _emu(app)
    ws = emu.seed_workspaces(1)[0]
    folder = emu.seed_folder(ws, "F")
    doc = emu.seed_document(ws, folder, "d.bin", content)
    return f"/workspaces/{ws}/documents/{doc}/download"


# -- paging: malformed integers are a 400, never a 500 -----------------------------------


@pytest.mark.parametrize(
    "query",
    ["offset=--5", "limit=--1", "offset=-", "limit=" + "9" * 5000, "offset=" + "1" * 5000],
)
async def test_malformed_paging_is_400_not_500(http: httpx.AsyncClient, query: str) -> None:
    r = await http.get("/workspaces?" + query)
    assert r.status_code == 400, r.text
    assert r.json()["ErrorCode"] == "INVALID_PARAMETER"


# -- Range: odd digits and huge numbers are never a 500 ----------------------------------


@pytest.mark.parametrize(
    ("header", "status", "content_range"),
    [
        (b"bytes=\xb2-", 200, None),  # superscript two: not an ASCII digit, header ignored
        (b"bytes=-\xb2", 200, None),
        (b"bytes=\xd9\xa0-\xd9\xa3", 200, None),  # Arabic-Indic digits (latin-1 decoded)
        (b"bytes=0-" + b"9" * 5000, 206, "bytes 0-9/10"),  # end clamped
        (b"bytes=" + b"9" * 5000 + b"-", 416, "bytes */10"),  # start beyond the end
        (b"bytes=-" + b"9" * 5000, 206, "bytes 0-9/10"),  # suffix longer than the doc
    ],
)
async def test_odd_range_numbers(
    app: Any, http: httpx.AsyncClient, header: bytes, status: int, content_range: str | None
) -> None:
    path = await _doc(app)
    r = await http.get(path, headers={b"Range": header})
    assert r.status_code == status, r.text
    assert r.headers.get("content-range") == content_range


async def test_if_range_weak_or_stale_etag_sends_whole_body(
    app: Any, http: httpx.AsyncClient
) -> None:
    path = await _doc(app)
    etag = (await http.get(path)).headers["etag"]
    for if_range in ("W/" + etag, '"stale"', "Thu, 26 Nov 2026 20:00:00 GMT", etag.strip('"')):
        r = await http.get(path, headers={"Range": "bytes=0-3", "If-Range": if_range})
        assert (r.status_code, r.content) == (200, b"0123456789"), if_range
    r = await http.get(path, headers={"Range": "bytes=0-3", "If-Range": etag})
    assert (r.status_code, r.content) == (206, b"0123")


# -- JSON bodies -------------------------------------------------------------------------


async def test_deeply_nested_json_is_400_not_500(http: httpx.AsyncClient) -> None:
    r = await http.post(
        "/workspaces", content=b"[" * 200_000, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400, r.text
    assert r.json()["ErrorCode"] == "INVALID_JSON"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_json_body_needs_a_json_content_type(
    app: Any, http: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    r = await http.post("/workspaces", content=b'{"name": "x"}', headers=headers)
    assert r.status_code == 415, r.text
    assert r.json()["ErrorCode"] == "UNSUPPORTED_MEDIA_TYPE"
    assert not _emu(app).room.workspaces  # nothing created


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON"]
)
async def test_json_content_type_variants_accepted(
    http: httpx.AsyncClient, content_type: str
) -> None:
    r = await http.post(
        "/workspaces", content=b'{"name": "x"}', headers={"Content-Type": content_type}
    )
    assert r.status_code == 201, r.text


# -- names: blank is refused on update and upload as it is on create --------------------


async def test_blank_names_refused_everywhere(app: Any, http: httpx.AsyncClient) -> None:
    emu = _emu(app)
    ws = emu.seed_workspaces(1)[0]
    folder = emu.seed_folder(ws, "F")
    group = (await http.post(f"/workspaces/{ws}/groups", json={"name": "G"})).json()["id"]
    for path in (f"/workspaces/{ws}", f"/workspaces/{ws}/folders/{folder}",
                 f"/workspaces/{ws}/groups/{group}"):  # fmt: skip
        for blank in ("", "   "):
            r = await http.put(path, json={"name": blank})
            assert r.status_code == 400, (path, r.text)
    assert emu.room.workspaces[ws].meta["name"].strip()
    assert emu.room.workspaces[ws].folders[folder]["name"] == "F"
    r = await http.post(
        f"/workspaces/{ws}/documents",
        files={"file": ("a.txt", b"x")},
        data={"folderId": folder, "name": "   "},
    )
    assert r.status_code == 400, r.text
    assert not emu.room.workspaces[ws].documents
    assert not list(emu.store.blob_dir.iterdir()) and not list(emu.store.tmp_dir.iterdir())


# -- OAuth: replayed refresh tokens and authorization codes ------------------------------


async def test_refresh_token_reuse_revokes_the_whole_session(http: httpx.AsyncClient) -> None:
    first = (await http.post("/oauth/token", data=CREDS)).json()
    form = {**CLIENT, "grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    second = (await http.post("/oauth/token", data=form)).json()
    r = await http.post("/oauth/token", data=form)  # replay of a rotated token
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_grant"
    # the replay is treated as theft: every token of that session stops working
    r = await http.get("/workspaces", headers={"Authorization": f"Bearer {second['access_token']}"})
    assert r.status_code == 401
    r = await http.post("/oauth/token", data={**form, "refresh_token": second["refresh_token"]})
    assert r.status_code == 401
    # other sessions are untouched
    assert (await http.get("/workspaces")).status_code == 200


async def test_authorization_code_replay_revokes_its_tokens(
    app: Any, http: httpx.AsyncClient
) -> None:
    code = _emu(app).issue_authorization_code(redirect_uri="https://app.example/cb")
    form = {
        **CLIENT,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "https://app.example/cb",
    }
    tok = (await http.post("/oauth/token", data=form)).json()
    assert (await http.post("/oauth/token", data=form)).status_code == 401
    r = await http.get("/workspaces", headers={"Authorization": f"Bearer {tok['access_token']}"})
    assert r.status_code == 401


async def test_code_for_another_redirect_uri_or_client_refused(app: Any) -> None:
    emu = _emu(app)
    emu.oauth.clients["other"] = "other-secret"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as c:
        code = emu.issue_authorization_code(redirect_uri="https://app.example/cb")
        form = {"grant_type": "authorization_code", "code": code}
        r = await c.post("/oauth/token", data={**form, **CLIENT})  # redirect_uri missing
        assert r.status_code == 401
        code = emu.issue_authorization_code(redirect_uri="https://app.example/cb")
        r = await c.post(
            "/oauth/token",
            data={**form, "code": code, "client_id": "other", "client_secret": "other-secret",
                  "redirect_uri": "https://app.example/cb"},
        )  # fmt: skip
        assert r.status_code == 401


# -- routing: a trailing slash is not silently redirected to another operation ----------


@pytest.mark.parametrize(
    "path", ["/workspaces/", "/workspaces/{ws}/folders/", "/workspaces/{ws}/documents/"]
)
async def test_trailing_slash_is_404_not_a_redirect(
    app: Any, http: httpx.AsyncClient, path: str
) -> None:
    # e.g. getDocument with an empty id must not turn into listDocuments
    ws = _emu(app).seed_workspaces(1)[0]
    r = await http.get(path.format(ws=ws))
    assert r.status_code == 404, (r.status_code, r.headers.get("location"))
    assert r.json()["status"]["code"] == 404


# -- shutdown: an upload in flight is cut, its temp file removed, the thread ends -------


def test_shutdown_with_an_upload_in_flight_leaves_nothing() -> None:
    import socket
    import threading

    from intralinks_async.testing import serve_in_thread

    application = create_app()
    emu = _emu(application)
    ws = emu.seed_workspaces(1)[0]
    folder = emu.seed_folder(ws, "F")
    token = emu.oauth.token(CREDS)["access_token"]
    head = (
        f'--b\r\nContent-Disposition: form-data; name="folderId"\r\n\r\n{folder}\r\n'
        '--b\r\nContent-Disposition: form-data; name="file"; filename="c.bin"\r\n\r\n'
    ).encode()
    with serve_in_thread(application) as url:
        port = int(url.rsplit(":", 1)[1])
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(
            f"POST /workspaces/{ws}/documents HTTP/1.1\r\nHost: e\r\n"
            f"Authorization: Bearer {token}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 10000000\r\n\r\n"
            .encode() + head + b"x" * 100_000
        )  # fmt: skip
        while not list(emu.store.tmp_dir.iterdir()):  # the upload is being written
            threading.Event().wait(0.01)
    try:
        alive = [t for t in threading.enumerate() if t.name == f"intralinks-emulator:{port}"]
        assert not alive, "server thread still waiting for the stalled upload"
        assert list(emu.store.tmp_dir.iterdir()) == []
        assert list(emu.store.blob_dir.iterdir()) == []
        assert emu.room.workspaces[ws].documents == {}
    finally:
        sock.close()
        emu.close()


# -- OAuth form bodies: declared as forms, no repeated parameters (RFC 6749 3.2, 3.1) ---


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke"])
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/json"])
async def test_oauth_body_must_be_a_form(app: Any, path: str, content_type: str | None) -> None:
    emu = _emu(app)
    form = "grant_type=client_credentials&client_id=demo&client_secret=demo-secret&token=x"
    headers = {"Content-Type": content_type} if content_type else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as c:
        r = await c.post(path, content=form.encode(), headers=headers)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_request"
    assert sum(emu.oauth.tokens_issued.values()) == 0 and emu.oauth.revocations == 0


async def test_repeated_oauth_parameter_is_invalid_request(app: Any) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as c:
        r = await c.post(
            "/oauth/token",
            content=b"grant_type=client_credentials&client_id=demo&client_id=demo"
            b"&client_secret=demo-secret",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_request"
        r = await c.post(
            "/oauth/token",
            content=b"grant_type=client_credentials&client_id=demo&client_secret=demo-secret",
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
        )
        assert r.status_code == 200, r.text


# -- downloads: a client that goes away stops the server reading the file ---------------


def test_download_stops_reading_when_the_client_disconnects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket
    import threading
    from typing import BinaryIO

    from intralinks_async.testing import _download, serve_in_thread

    size = 64 * 1024 * 1024
    handles: list[BinaryIO] = []
    read = [0]

    class Counting:
        def __init__(self, fh: BinaryIO) -> None:
            self._fh = fh

        def read(self, n: int) -> bytes:
            data = self._fh.read(n)
            read[0] += len(data)
            return data

        def __getattr__(self, name: str) -> Any:
            return getattr(self._fh, name)

    def counting_open(path: Any, mode: str) -> Any:
        fh: Any = open(path, mode)  # noqa: SIM115
        handles.append(fh)
        return Counting(fh)

    monkeypatch.setattr(_download, "open", counting_open, raising=False)
    application = create_app()
    emu = _emu(application)
    ws = emu.seed_workspaces(1)[0]
    folder = emu.seed_folder(ws, "F")
    doc = emu.seed_document(ws, folder, "big.bin", b"\0" * size)
    token = emu.oauth.token(CREDS)["access_token"]
    try:
        with serve_in_thread(application) as url:
            port = int(url.rsplit(":", 1)[1])
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(
                    f"GET /workspaces/{ws}/documents/{doc}/download HTTP/1.1\r\nHost: e\r\n"
                    f"Authorization: Bearer {token}\r\n\r\n".encode()
                )
                assert sock.recv(65536).startswith(b"HTTP/1.1 200")
            for _ in range(1000):  # until the server closed the file (bounded)
                if handles and handles[0].closed:
                    break
                threading.Event().wait(0.01)
        assert handles and handles[0].closed
        assert read[0] < size, "the whole document was read for a client that had left"
    finally:
        emu.close()


# -- names: bounded, so every stored document can be downloaded again --------------------


async def test_overlong_names_refused_and_longest_allowed_name_downloads(
    app: Any, http: httpx.AsyncClient
) -> None:
    emu = _emu(app)
    ws = emu.seed_workspaces(1)[0]
    folder = emu.seed_folder(ws, "F")
    group = (await http.post(f"/workspaces/{ws}/groups", json={"name": "G"})).json()["id"]
    doc = emu.seed_document(ws, folder, "d.txt", b"d")
    too_long = "文" * 256
    for method, path in (
        ("POST", "/workspaces"),
        ("PUT", f"/workspaces/{ws}"),
        ("POST", f"/workspaces/{ws}/folders"),
        ("PUT", f"/workspaces/{ws}/folders/{folder}"),
        ("POST", f"/workspaces/{ws}/groups"),
        ("PUT", f"/workspaces/{ws}/groups/{group}"),
        ("PUT", f"/workspaces/{ws}/documents/{doc}"),
    ):
        r = await http.request(method, path, json={"name": too_long})
        assert r.status_code == 400, (method, path, r.status_code)
        assert r.json()["ErrorCode"] == "INVALID_FIELD"
    for fields, filename in (({"name": too_long}, "a.txt"), ({}, too_long)):
        r = await http.post(
            f"/workspaces/{ws}/documents",
            files={"file": (filename, b"x")},
            data={"folderId": folder, **fields},
        )
        assert r.status_code == 400, r.text
    assert len(emu.room.workspaces[ws].documents) == 1
    assert not list(emu.store.tmp_dir.iterdir()) and len(list(emu.store.blob_dir.iterdir())) == 1
    longest = "文" * 251 + ".pdf"
    r = await http.post(
        f"/workspaces/{ws}/documents",
        files={"file": ("a.pdf", b"x")},
        data={"folderId": folder, "name": longest},
    )
    assert r.status_code == 201 and r.json()["name"] == longest
    download = await http.get(f"/workspaces/{ws}/documents/{r.json()['id']}/download")
    assert download.status_code == 200
    assert len(download.headers["content-disposition"]) < 8 * 1024


# -- regressions for semantics the review checked (they held) ----------------------------


async def test_ids_of_another_workspace_are_refused(app: Any, http: httpx.AsyncClient) -> None:
    emu = _emu(app)
    ws_a, ws_b = emu.seed_workspaces(2)
    folder_a, folder_b = emu.seed_folder(ws_a, "A"), emu.seed_folder(ws_b, "B")
    doc_a = emu.seed_document(ws_a, folder_a, "a.txt", b"a")
    group_a = (await http.post(f"/workspaces/{ws_a}/groups", json={"name": "G"})).json()["id"]
    r = await http.post(
        f"/workspaces/{ws_a}/documents", files={"file": ("x", b"x")}, data={"folderId": folder_b}
    )
    assert r.status_code == 404
    r = await http.put(f"/workspaces/{ws_a}/documents/{doc_a}", json={"folderId": folder_b})
    assert r.status_code == 404
    r = await http.put(f"/workspaces/{ws_a}/folders/{folder_a}", json={"parentId": folder_b})
    assert r.status_code == 404
    r = await http.post(f"/workspaces/{ws_a}/folders", json={"name": "x", "parentId": folder_b})
    assert r.status_code == 404
    r = await http.post(
        f"/workspaces/{ws_a}/permissions",
        json={"groupId": group_a, "folderId": folder_b, "permission": "SEE"},
    )
    assert r.status_code == 404
    assert (await http.get(f"/workspaces/{ws_b}/documents/{doc_a}")).status_code == 404
    assert emu.room.workspaces[ws_a].documents[doc_a].meta["folderId"] == folder_a
    assert len(emu.room.workspaces[ws_a].documents) == 1
    assert list(emu.store.tmp_dir.iterdir()) == []


async def test_access_token_expires_exactly_at_its_ttl(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = _emu(app)
    now = [1_800_000_000.0]
    monkeypatch.setattr(emu.clock, "now", lambda: now[0])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as c:
        tok = (await c.post("/oauth/token", data=CREDS)).json()
        assert tok["expires_in"] == 3600
        c.headers["Authorization"] = f"Bearer {tok['access_token']}"
        now[0] += 3599.999
        assert (await c.get("/workspaces")).status_code == 200
        now[0] += 0.001
        r = await c.get("/workspaces")
        assert r.status_code == 401 and r.json()["error"]["subcode"] == "expired_token"


async def test_folder_delete_racing_uploads_leaves_no_orphans(
    app: Any, http: httpx.AsyncClient
) -> None:
    import anyio

    emu = _emu(app)
    ws = emu.seed_workspaces(1)[0]
    top = emu.seed_folder(ws, "Top")
    sub = emu.seed_folder(ws, "Sub", top)
    statuses: list[int] = []

    async def upload(i: int) -> None:
        async def body() -> AsyncIterator[bytes]:
            yield (
                f'--b\r\nContent-Disposition: form-data; name="folderId"\r\n\r\n{sub}\r\n'
                f'--b\r\nContent-Disposition: form-data; name="file"; filename="{i}.bin"\r\n\r\n'
            ).encode()
            await anyio.sleep(0)
            yield b"y" * 1000 + b"\r\n--b--\r\n"

        r = await http.post(
            f"/workspaces/{ws}/documents",
            content=body(),
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )
        statuses.append(r.status_code)

    async def delete() -> None:
        await anyio.sleep(0)
        r = await http.delete(f"/workspaces/{ws}/folders/{top}")
        statuses.append(r.status_code)

    async with anyio.create_task_group() as tg:
        for i in range(20):
            tg.start_soon(upload, i)
        tg.start_soon(delete)
    assert set(statuses) <= {201, 204, 404} and 204 in statuses
    room = emu.room.workspaces[ws]
    assert room.folders == {} and room.documents == {}
    assert list(emu.store.tmp_dir.iterdir()) == [] and list(emu.store.blob_dir.iterdir()) == []


# -- latency: validated, applied to API requests only ------------------------------------


async def test_latency_is_applied_per_api_request_and_validated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import anyio

    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(anyio, "sleep", fake_sleep)
    application = create_app(latency=0.25)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as c:
        tok = (await c.post("/oauth/token", data=CREDS)).json()["access_token"]
        assert slept == []  # token calls are not delayed
        c.headers["Authorization"] = f"Bearer {tok}"
        await c.get("/workspaces")
        await c.post("/workspaces", json={"name": "x"})
    assert slept == [0.25, 0.25]
    _emu(application).close()
    with pytest.raises(ValueError, match="latency"):
        create_app(latency=-1)


# -- paging: an optional server-side cap on limit, as real APIs have --------------------


async def test_max_page_size_caps_limit_silently() -> None:
    application = create_app(max_page_size=50)
    emu = _emu(application)
    emu.seed_workspaces(120)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as c:
        c.headers["Authorization"] = f"Bearer {emu.oauth.token(CREDS)['access_token']}"
        sizes = []
        for query in ("limit=100", "", "offset=100&limit=100", "limit=7"):
            r = await c.get("/workspaces?" + query)
            sizes.append(len(r.json()["workspace"]))
    assert sizes == [50, 50, 20, 7]
    emu.close()
    with pytest.raises(ValueError, match="max_page_size"):
        create_app(max_page_size=0)


# -- OAuth: HTTP Basic client credentials are form-urlencoded first (RFC 6749 2.3.1) ----


async def test_basic_credentials_are_form_urlencoded() -> None:
    import base64
    from urllib.parse import quote_plus

    secret = "p@ss:w+rd/%é"
    application = create_app(clients={"svc id": secret})
    transport = httpx.ASGITransport(app=application)

    def basic(client_id: str, client_secret: str) -> dict[str, str]:
        raw = f"{client_id}:{client_secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as c:
        form = {"grant_type": "client_credentials"}
        r = await c.post(
            "/oauth/token", data=form, headers=basic(quote_plus("svc id"), quote_plus(secret))
        )
        assert r.status_code == 200, r.text
        r = await c.post("/oauth/token", data=form, headers=basic("svc id", secret))
        assert r.status_code == 401  # not encoded: '+' means a space, '%é' is not an escape
        r = await c.post(
            "/oauth/token", data={**form, "client_id": "svc id", "client_secret": secret}
        )
        assert r.status_code == 200, r.text
    _emu(application).close()


async def test_authorize_requires_response_type(http: httpx.AsyncClient) -> None:
    params = {"client_id": "demo", "redirect_uri": "http://localhost/cb"}
    r = await http.get("/oauth/authorize", params=params)  # RFC 6749 4.1.1: REQUIRED
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_request"
    r = await http.get("/oauth/authorize", params={**params, "response_type": "token"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "unsupported_response_type"
    r = await http.get("/oauth/authorize", params={**params, "response_type": "code"})
    assert r.status_code == 302
