"""listDocuments / uploadDocument / getDocument / updateDocument / deleteDocument / download."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest

from .conftest import Api


async def test_upload_metadata_and_download(api: Api) -> None:
    ws = (await api.workspace())["id"]
    f = (await api.folder(ws))["id"]
    data = os.urandom(300_000)
    doc = await api.upload(ws, f, "Q3 Report.PDF", data, note="Q3")
    assert doc["name"] == "Q3 Report.PDF" and doc["extension"] == "pdf"
    assert doc["folderId"] == f and doc["fileSize"] == len(data) and doc["version"] == 1
    assert doc["note"] == "Q3" and doc["createdBy"] == "demo"
    assert doc["fileHash"] == base64.b64encode(hashlib.sha1(data).digest()).decode()
    for key in ("createdOn", "updatedOn", "lastAccessedOn"):
        assert doc[key].endswith("Z")

    assert (await api.http.get(f"/workspaces/{ws}/documents/{doc['id']}")).json() == doc
    r = await api.http.get(f"/workspaces/{ws}/documents/{doc['id']}/download")
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["accept-ranges"] == "bytes" and r.headers["etag"]
    assert r.headers["content-length"] == str(len(data))


async def test_name_field_overrides_filename_and_same_name_makes_new_document(api: Api) -> None:
    ws = (await api.workspace())["id"]
    f = (await api.folder(ws))["id"]
    a = await api.upload(ws, f, "file.bin", b"one", name="contract.docx")
    b = await api.upload(ws, f, "file.bin", b"two", name="contract.docx")
    assert a["name"] == b["name"] == "contract.docx" and a["extension"] == "docx"
    assert a["id"] != b["id"]
    docs = (await api.http.get(f"/workspaces/{ws}/documents")).json()["document"]
    assert len(docs) == 2


async def test_list_filters_by_folder(api: Api) -> None:
    ws = (await api.workspace())["id"]
    f1 = (await api.folder(ws, "A"))["id"]
    f2 = (await api.folder(ws, "B"))["id"]
    d1 = await api.upload(ws, f1, "a.txt", b"a")
    d2 = await api.upload(ws, f2, "b.txt", b"b")
    r = await api.http.get(f"/workspaces/{ws}/documents", params={"folderId": f2})
    assert [d["id"] for d in r.json()["document"]] == [d2["id"]]
    r = await api.http.get(f"/workspaces/{ws}/documents")
    assert [d["id"] for d in r.json()["document"]] == [d1["id"], d2["id"]]


async def test_update_bumps_version_and_moves(api: Api) -> None:
    ws = (await api.workspace())["id"]
    f1 = (await api.folder(ws, "A"))["id"]
    f2 = (await api.folder(ws, "B"))["id"]
    doc = await api.upload(ws, f1, "a.txt", b"a")
    r = await api.http.put(
        f"/workspaces/{ws}/documents/{doc['id']}",
        json={"name": "b.csv", "note": "moved", "folderId": f2, "fileSize": 99, "version": 42},
    )
    assert r.status_code == 200
    upd = r.json()
    assert upd["version"] == 2 and upd["name"] == "b.csv" and upd["extension"] == "csv"
    assert upd["folderId"] == f2 and upd["note"] == "moved" and upd["fileSize"] == 1
    r = await api.http.put(f"/workspaces/{ws}/documents/{doc['id']}", json={"folderId": "nope"})
    assert r.status_code == 404
    r = await api.http.put(f"/workspaces/{ws}/documents/{doc['id']}", json={"note": 3})
    assert r.status_code == 400


async def test_delete_and_unknown_ids(api: Api) -> None:
    ws = (await api.workspace())["id"]
    f = (await api.folder(ws))["id"]
    doc = await api.upload(ws, f)
    assert (await api.http.delete(f"/workspaces/{ws}/documents/{doc['id']}")).status_code == 204
    for method, suffix in [("GET", ""), ("GET", "/download"), ("DELETE", ""), ("PUT", "")]:
        r = await api.http.request(
            method, f"/workspaces/{ws}/documents/{doc['id']}{suffix}", json={}
        )
        assert r.status_code == 404
        assert r.json()["status"]["subcode"] == "DOCUMENT_NOT_FOUND"


@pytest.mark.parametrize(
    ("files", "data", "code"),
    [
        (None, {"folderId": "F"}, 400),  # no file part (and not multipart at all)
        ({"file": ("a.txt", b"a")}, {}, 400),  # no folderId
        ({"other": ("a.txt", b"a")}, {"folderId": "F"}, 400),  # file under a wrong name
        ({"file": ("a.txt", b"a")}, {"folderId": "999999"}, 404),  # unknown folder
    ],
)
async def test_upload_validation(api: Api, files: object, data: dict[str, str], code: int) -> None:
    ws = (await api.workspace())["id"]
    f = (await api.folder(ws))["id"]
    data = {k: (f if v == "F" else v) for k, v in data.items()}
    r = await api.http.post(f"/workspaces/{ws}/documents", files=files, data=data)  # type: ignore[arg-type]
    assert r.status_code == code, r.text
    assert (await api.http.get(f"/workspaces/{ws}/documents")).json() == {"document": []}
    assert os.listdir(api.emu.store.tmp_dir) == []
    assert os.listdir(api.emu.store.blob_dir) == []


async def test_upload_garbage_multipart_is_400(api: Api) -> None:
    ws = (await api.workspace())["id"]
    r = await api.http.post(
        f"/workspaces/{ws}/documents",
        content=b"--xyz\r\nnot a header line\r\n\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert r.status_code == 400
    assert os.listdir(api.emu.store.tmp_dir) == []


async def test_upload_to_unknown_workspace(api: Api) -> None:
    r = await api.http.post(
        "/workspaces/nope/documents", files={"file": ("a", b"a")}, data={"folderId": "1"}
    )
    assert r.status_code == 404


async def test_boundary_like_content_survives(api: Api) -> None:
    ws = (await api.workspace())["id"]
    f = (await api.folder(ws))["id"]
    data = b'--+++\r\nContent-Disposition: form-data; name="folderId"\r\n\r\nX\r\n--+++--' * 100
    doc = await api.upload(ws, f, "tricky.bin", data)
    r = await api.http.get(f"/workspaces/{ws}/documents/{doc['id']}/download")
    assert r.content == data and doc["folderId"] == f


async def test_empty_document(api: Api) -> None:
    ws = (await api.workspace())["id"]
    f = (await api.folder(ws))["id"]
    doc = await api.upload(ws, f, "empty.txt", b"")
    assert doc["fileSize"] == 0
    r = await api.http.get(f"/workspaces/{ws}/documents/{doc['id']}/download")
    assert r.status_code == 200 and r.content == b""


async def test_head_download_and_method_not_allowed(api: Api) -> None:
    ws = (await api.workspace())["id"]
    f = (await api.folder(ws))["id"]
    doc = await api.upload(ws, f, "h.bin", b"12345")
    r = await api.http.head(f"/workspaces/{ws}/documents/{doc['id']}/download")
    assert r.status_code == 200 and r.headers["content-length"] == "5" and r.content == b""
    r = await api.http.patch(f"/workspaces/{ws}")
    assert r.status_code == 405 and r.json()["ErrorCode"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize(
    "disposition",
    [
        "form-data; name=\"file\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf",
        'form-data; name="file"; filename="resume.pdf"; filename*=UTF-8\'\'r%C3%A9sum%C3%A9.pdf',
        'form-data; name="file"; filename="résumé.pdf"',
    ],
)
async def test_non_ascii_filenames(api: Api, disposition: str) -> None:
    ws = (await api.workspace())["id"]
    f = (await api.folder(ws))["id"]
    body = (
        f'--bnd\r\nContent-Disposition: form-data; name="folderId"\r\n\r\n{f}\r\n'
        f"--bnd\r\nContent-Disposition: {disposition}\r\n\r\ndata\r\n--bnd--\r\n"
    ).encode()
    r = await api.http.post(
        f"/workspaces/{ws}/documents",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=bnd"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "résumé.pdf" and r.json()["extension"] == "pdf"
    dl = await api.http.get(f"/workspaces/{ws}/documents/{r.json()['id']}/download")
    assert dl.headers["content-disposition"] == "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
