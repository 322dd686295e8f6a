"""Groups, members, permissions, splash and custom fields."""

from __future__ import annotations

import pytest

from .conftest import Api


async def test_group_crud_and_members(api: Api) -> None:
    ws = (await api.workspace())["id"]
    r = await api.http.post(f"/workspaces/{ws}/groups", json={"name": "Buyers", "note": "bidders"})
    assert r.status_code == 201
    g = r.json()
    assert g["name"] == "Buyers" and g["note"] == "bidders" and g["memberCount"] == 0
    assert g["foldersWithAccess"] == 0 and g["type"]

    for email in ("ann@buyer.example", "bob@buyer.example", "ann@buyer.example"):
        r = await api.http.post(
            f"/workspaces/{ws}/groups/{g['id']}/members", json={"emailId": email, "firstName": "X"}
        )
        assert r.status_code == 201
    members = (await api.http.get(f"/workspaces/{ws}/groups/{g['id']}/members")).json()["user"]
    assert sorted(m["emailId"] for m in members) == ["ann@buyer.example", "bob@buyer.example"]
    assert all(m["id"] and m["roleType"] and m["createdOn"] for m in members)

    # the same user (by id) can join another group
    g2 = (await api.http.post(f"/workspaces/{ws}/groups", json={"name": "Sellers"})).json()
    r = await api.http.post(
        f"/workspaces/{ws}/groups/{g2['id']}/members", json={"id": members[0]["id"]}
    )
    assert r.status_code == 201
    r = await api.http.post(f"/workspaces/{ws}/groups/{g2['id']}/members", json={"id": "424242"})
    assert r.status_code == 404
    assert (await api.http.get(f"/workspaces/{ws}")).json()["statistics"]["userCount"] == 2

    r = await api.http.get(f"/workspaces/{ws}/groups/{g['id']}")
    assert r.json()["memberCount"] == 2
    r = await api.http.put(f"/workspaces/{ws}/groups/{g['id']}", json={"name": "Bidders"})
    assert r.status_code == 200 and r.json()["name"] == "Bidders" and r.json()["memberCount"] == 2
    listed = (await api.http.get(f"/workspaces/{ws}/groups")).json()["group"]
    assert [x["name"] for x in listed] == ["Bidders", "Sellers"]
    assert (await api.http.delete(f"/workspaces/{ws}/groups/{g['id']}")).status_code == 204
    assert (await api.http.get(f"/workspaces/{ws}/groups/{g['id']}")).status_code == 404
    assert (await api.http.get(f"/workspaces/{ws}/groups/{g['id']}/members")).status_code == 404


@pytest.mark.parametrize("body", [{}, {"emailId": "not-an-email"}, {"emailId": 7}])
async def test_member_validation(api: Api, body: dict[str, object]) -> None:
    ws = (await api.workspace())["id"]
    g = (await api.http.post(f"/workspaces/{ws}/groups", json={"name": "G"})).json()["id"]
    r = await api.http.post(f"/workspaces/{ws}/groups/{g}/members", json=body)
    assert r.status_code == 400 and "ErrorCode" in r.json()


async def test_permissions(api: Api) -> None:
    ws = (await api.workspace())["id"]
    f = (await api.folder(ws))["id"]
    g = (await api.http.post(f"/workspaces/{ws}/groups", json={"name": "G"})).json()["id"]
    body = {"groupId": g, "folderId": f, "permission": "SEE_AND_DOWNLOAD"}
    r = await api.http.post(f"/workspaces/{ws}/permissions", json=body)
    assert r.status_code == 201
    perm = r.json()
    assert perm["id"] and {k: perm[k] for k in body} == body
    assert (await api.http.get(f"/workspaces/{ws}/permissions")).json() == {"permission": [perm]}
    assert (await api.http.get(f"/workspaces/{ws}/groups/{g}")).json()["foldersWithAccess"] == 1

    r = await api.http.post(f"/workspaces/{ws}/permissions", json={**body, "permission": "EDIT"})
    assert r.status_code == 400 and r.json()["ErrorCode"] == "INVALID_ENUM_VALUE"
    r = await api.http.post(f"/workspaces/{ws}/permissions", json={**body, "permission": None})
    assert r.status_code == 400
    r = await api.http.post(f"/workspaces/{ws}/permissions", json={**body, "groupId": "999"})
    assert r.status_code == 404
    r = await api.http.post(f"/workspaces/{ws}/permissions", json={**body, "folderId": "999"})
    assert r.status_code == 404
    # deleting the group removes its permissions
    await api.http.delete(f"/workspaces/{ws}/groups/{g}")
    assert (await api.http.get(f"/workspaces/{ws}/permissions")).json() == {"permission": []}


async def test_splash(api: Api) -> None:
    ws = (await api.workspace())["id"]
    splash = (await api.http.get(f"/workspaces/{ws}/splash")).json()
    assert splash["id"] and splash["hasAcceptButton"] is False and splash["hasImage"] is False
    r = await api.http.put(
        f"/workspaces/{ws}/splash", json={"hasAcceptButton": True, "splashText": "Accept the NDA"}
    )
    assert r.status_code == 200
    assert r.json() == {**splash, "hasAcceptButton": True, "splashText": "Accept the NDA"}
    assert (await api.http.get(f"/workspaces/{ws}/splash")).json() == r.json()
    r = await api.http.put(f"/workspaces/{ws}/splash", json={"hasImage": "yes"})
    assert r.status_code == 400
    assert (await api.http.get("/workspaces/nope/splash")).status_code == 404


async def test_custom_fields_seeded(api: Api) -> None:
    ws = (await api.workspace())["id"]
    assert (await api.http.get(f"/workspaces/{ws}/customfields")).json() == {"customField": []}
    api.emu.seed_custom_fields(
        ws,
        [
            {"name": "Deal code", "type": "TEXT", "isRequired": True},
            {"name": "Region", "type": "SELECT", "options": ["EMEA", "APAC"]},
        ],
    )
    fields = (await api.http.get(f"/workspaces/{ws}/customfields")).json()["customField"]
    assert [(f["name"], f["type"], f["isRequired"]) for f in fields] == [
        ("Deal code", "TEXT", True),
        ("Region", "SELECT", False),
    ]
    assert fields[1]["options"] == ["EMEA", "APAC"]
    with pytest.raises(ValueError):
        api.emu.seed_custom_fields(ws, [{"name": "x", "type": "NUMBER"}])
