"""OAuth grants, rotation, revocation and 401s."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import CREDS, Api

CLIENT = {"client_id": "demo", "client_secret": "demo-secret"}


async def test_client_credentials_and_counters(api: Api) -> None:
    before = api.emu.oauth.tokens_issued["client_credentials"]
    r = await api.http.post("/oauth/token", data=CREDS)
    assert r.status_code == 200
    tok = r.json()
    assert tok["token_type"] == "Bearer" and tok["expires_in"] == 3600
    assert tok["access_token"] and tok["refresh_token"]
    assert r.headers["cache-control"] == "no-store"
    assert api.emu.oauth.tokens_issued["client_credentials"] == before + 1
    assert api.emu.oauth.token_requests["client_credentials"] == before + 1


@pytest.mark.parametrize(
    "form",
    [
        {**CREDS, "client_secret": "wrong"},
        {**CREDS, "client_id": "nobody"},
        {"grant_type": "client_credentials", "client_id": "demo"},
    ],
)
async def test_bad_client_is_401(api: Api, form: dict[str, str]) -> None:
    r = await api.http.post("/oauth/token", data=form)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_client"
    assert "demo-secret" not in r.text


async def test_basic_client_auth(api: Api) -> None:
    basic = base64.b64encode(b"demo:demo-secret").decode()
    r = await api.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert r.status_code == 200


async def test_bad_grant_types(api: Api) -> None:
    r = await api.http.post("/oauth/token", data={**CLIENT, "grant_type": "password"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "unsupported_grant_type"
    r = await api.http.post("/oauth/token", data=CLIENT)
    assert r.status_code == 400
    assert api.emu.oauth.token_requests["<invalid>"] == 2


async def test_refresh_token_rotates(api: Api) -> None:
    first = (await api.http.post("/oauth/token", data=CREDS)).json()
    form = {**CLIENT, "grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    r = await api.http.post("/oauth/token", data=form)
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    # the new one works, once
    used = form["refresh_token"]
    form["refresh_token"] = second["refresh_token"]
    assert (await api.http.post("/oauth/token", data=form)).status_code == 200
    # a used refresh token stops working (and its replay ends the session:
    # see test_adversarial.test_refresh_token_reuse_revokes_the_whole_session)
    for token in (used, second["refresh_token"]):
        r = await api.http.post("/oauth/token", data={**form, "refresh_token": token})
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_grant"
    assert api.emu.oauth.tokens_issued["refresh_token"] == 2
    assert api.emu.oauth.token_requests["refresh_token"] == 4


async def test_refresh_token_expires_after_30_days(api: Api) -> None:
    first = (await api.http.post("/oauth/token", data=CREDS)).json()
    api.emu.advance_clock(30 * 24 * 3600 + 1)
    form = {**CLIENT, "grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    assert (await api.http.post("/oauth/token", data=form)).status_code == 401


async def test_authorization_code_helper(api: Api) -> None:
    code = api.emu.issue_authorization_code(
        "demo", redirect_uri="http://localhost/cb", user="ann@x.example"
    )
    form = {
        **CLIENT,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "http://localhost/cb",
    }
    r = await api.http.post("/oauth/token", data=form)
    assert r.status_code == 200
    token = r.json()["access_token"]
    # the document's createdBy is the approving user
    ws = (await api.workspace())["id"]
    f = (await api.folder(ws))["id"]
    api.http.headers["Authorization"] = f"Bearer {token}"
    assert (await api.upload(ws, f))["createdBy"] == "ann@x.example"
    # codes are single use
    assert (await api.http.post("/oauth/token", data=form)).status_code == 401
    # redirect_uri must match
    code = api.emu.issue_authorization_code("demo", redirect_uri="http://localhost/cb")
    r = await api.http.post(
        "/oauth/token", data={**form, "code": code, "redirect_uri": "http://evil/cb"}
    )
    assert r.status_code == 401
    with pytest.raises(ValueError):
        api.emu.issue_authorization_code("nobody")


async def test_authorize_endpoint_redirects_with_code(api: Api) -> None:
    r = await api.http.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": "demo",
            "redirect_uri": "http://localhost/cb",
            "state": "s1",
        },
    )
    assert r.status_code == 302
    location = urlsplit(r.headers["location"])
    assert location.netloc == "localhost" and location.path == "/cb"
    query = parse_qs(location.query)
    assert query["state"] == ["s1"]
    form = {
        **CLIENT,
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": "http://localhost/cb",
    }
    assert (await api.http.post("/oauth/token", data=form)).status_code == 200
    r = await api.http.get(
        "/oauth/authorize", params={"client_id": "nobody", "redirect_uri": "http://x/"}
    )
    assert r.status_code == 400


@pytest.mark.parametrize(
    ("header", "subcode"),
    [
        (None, "missing_token"),
        ("Token abc", "malformed_token"),
        ("Bearer", "malformed_token"),
        ("Bearer a b", "malformed_token"),
        ("Bearer at_unknown", "invalid_token"),
    ],
)
async def test_401_for_bad_tokens(api: Api, header: str | None, subcode: str) -> None:
    if header is None:
        del api.http.headers["Authorization"]
    else:
        api.http.headers["Authorization"] = header
    r = await api.http.get("/workspaces")
    assert r.status_code == 401
    body = r.json()
    assert body["status"] == "Unauthorized" and body["error"]["subcode"] == subcode
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert api.emu.oauth.auth_failures[subcode] == 1


async def test_expired_token_is_401(api: Api) -> None:
    assert (await api.http.get("/workspaces")).status_code == 200
    api.emu.advance_clock(3601)
    r = await api.http.get("/workspaces")
    assert r.status_code == 401 and r.json()["error"]["subcode"] == "expired_token"


async def test_revoke_access_token(api: Api) -> None:
    token = api.http.headers["Authorization"].split()[1]
    r = await api.http.post("/oauth/revoke", data={"token": token})
    assert r.status_code == 200
    r = await api.http.get("/workspaces")
    assert r.status_code == 401 and r.json()["error"]["subcode"] == "revoked_token"
    assert (await api.http.post("/oauth/revoke", data={"token": "unknown"})).status_code == 200
    assert (await api.http.post("/oauth/revoke", data={})).status_code == 400
    assert api.emu.oauth.revocations == 2  # the malformed call is not counted


async def test_revoke_refresh_token_ends_the_session(api: Api) -> None:
    tok = (await api.http.post("/oauth/token", data=CREDS)).json()
    await api.http.post("/oauth/revoke", data={"token": tok["refresh_token"]})
    r = await api.http.get(
        "/workspaces", headers={"Authorization": f"Bearer {tok['access_token']}"}
    )
    assert r.status_code == 401
    form = {**CLIENT, "grant_type": "refresh_token", "refresh_token": tok["refresh_token"]}
    assert (await api.http.post("/oauth/token", data=form)).status_code == 401
    # other sessions are unaffected
    assert (await api.http.get("/workspaces")).status_code == 200


async def test_token_ttl_option(tmp_path: object) -> None:
    import httpx

    from intralinks_async.testing import create_app

    app = create_app(token_ttl=5, clients={"acme": "s3cret"})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://e"
    ) as http:
        r = await http.post(
            "/oauth/token", data={**CREDS, "client_id": "acme", "client_secret": "s3cret"}
        )
        assert r.json()["expires_in"] == 5
        h = {"Authorization": f"Bearer {r.json()['access_token']}"}
        assert (await http.get("/workspaces", headers=h)).status_code == 200
        app.state.emulator.advance_clock(5)
        assert (await http.get("/workspaces", headers=h)).status_code == 401
        assert (await http.post("/oauth/token", data=CREDS)).status_code == 401
    app.state.emulator.close()
