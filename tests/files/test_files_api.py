"""``/v1/files`` as a FlexPortal client uses it: upload, list, get, delete, and signed
links that open without an API key until they expire; on a local directory and on S3."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError

from flexbill.core import clock
from tests.files.support import (
    PDF_BYTES,
    PNG_BYTES,
    auth_headers,
    content_of,
    fetch,
    signed_url,
    upload,
    uploaded,
)
from tests.orders.support import create_catalog, order_body, place
from tests.support import Api, Tenant, error_code, issue_key, new_tenant

T0 = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)
FILE_FIELDS = {
    "fileId", "tenantId", "orderId", "customerId", "invoiceId", "type", "category", "filename",
    "originalFilename", "contentType", "fileSize", "sha256", "storagePath", "uploadedBy",
    "metadata", "createdAt", "updatedAt",
}  # fmt: skip


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with clock.frozen(T0):
        yield


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    query.update(changes)
    return parts._replace(query=urlencode(query)).geturl()


async def test_an_upload_is_kept_listed_and_read_back(api: Api, data_dir: Path) -> None:
    await create_catalog(api)
    order = await place(api)
    file = await uploaded(
        api, PDF_BYTES, filename="../signed/Delivery note.pdf", orderId=order["orderId"]
    )
    assert set(file) == FILE_FIELDS
    assert file == {
        "fileId": file["fileId"], "tenantId": api.headers["Tenant-ID"],
        "orderId": order["orderId"], "customerId": order["customerId"], "invoiceId": None,
        "type": "document", "category": "uploaded", "filename": "Delivery note.pdf",
        "originalFilename": "../signed/Delivery note.pdf", "contentType": "application/pdf",
        "fileSize": len(PDF_BYTES), "sha256": hashlib.sha256(PDF_BYTES).hexdigest(),
        "storagePath": file["storagePath"], "uploadedBy": file["uploadedBy"], "metadata": {},
        "createdAt": "2025-07-01T09:00:00Z", "updatedAt": "2025-07-01T09:00:00Z",
    }  # fmt: skip
    assert file["fileId"].startswith("file_")
    assert file["uploadedBy"].startswith("api_key:key_")
    assert (data_dir / "files" / file["storagePath"]).read_bytes() == PDF_BYTES
    got = await api.get(f"/v1/files/{file['fileId']}")
    assert (got.status_code, got.json()) == (200, file)
    assert await content_of(api, file["fileId"]) == PDF_BYTES


async def test_the_list_filters_and_pages_by_offset(api: Api) -> None:
    await create_catalog(api)
    order = await place(api)
    other = await place(api, order_body("bob@example.com"))
    names = {}
    for minute, (name, fields) in enumerate(
        [
            ("a", {"orderId": order["orderId"]}),
            ("b", {"orderId": order["orderId"], "type": "attachment"}),
            ("c", {"customerId": other["customerId"]}),
            ("d", {}),
        ]
    ):
        clock.advance(timedelta(minutes=minute))
        names[(await uploaded(api, filename=f"{name}.pdf", **fields))["fileId"]] = name

    async def listed(**params: Any) -> tuple[list[str], dict[str, Any]]:
        response = await api.get("/v1/files", **params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"files", "count", "limit", "offset", "hasMore", "filters"}
        assert body["count"] == len(body["files"])
        return [names[f["fileId"]] for f in body["files"]], body

    everything, body = await listed()
    assert everything == ["d", "c", "b", "a"]
    assert (body["limit"], body["offset"], body["hasMore"]) == (50, 0, False)
    assert body["filters"] == {"orderId": None, "customerId": None, "type": None}
    by_order, body = await listed(orderId=order["orderId"])
    assert by_order == ["b", "a"]
    assert body["filters"] == {"orderId": order["orderId"], "customerId": None, "type": None}
    assert (await listed(orderId=order["orderId"], type="attachment"))[0] == ["b"]
    assert (await listed(customerId=order["customerId"]))[0] == ["b", "a"]
    assert (await listed(customerId=other["customerId"]))[0] == ["c"]
    assert (await listed(type="contract"))[0] == []
    first, body = await listed(limit=3)
    assert (first, body["hasMore"]) == (["d", "c", "b"], True)
    rest, body = await listed(limit=3, offset=3)
    assert (rest, body["offset"], body["hasMore"]) == (["a"], 3, False)

    for params, path in (({"type": "photo"}, "type"), ({"limit": 101}, "limit"),
                         ({"offset": -1}, "offset")):  # fmt: skip
        response = await api.get("/v1/files", **params)
        assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
        assert response.json()["error"]["details"][0]["path"] == path


async def test_a_signed_url_opens_without_a_key_until_it_expires(api: Api) -> None:
    file = await uploaded(api, PDF_BYTES, filename="Über uns.pdf")
    answer = await signed_url(api, file["fileId"], expiresInMinutes=30)
    assert answer == {
        "success": True, "url": answer["url"], "filename": "Über uns.pdf",
        "contentType": "application/pdf", "fileSize": len(PDF_BYTES),
        "expiresAt": int((T0 + timedelta(minutes=30)).timestamp()) * 1000,
    }  # fmt: skip
    assert answer["url"].startswith(f"http://testserver/v1/files/{file['fileId']}/content?")
    opened = await fetch(api, answer["url"])
    assert opened.status_code == 200
    assert opened.content == PDF_BYTES
    assert opened.headers["content-type"] == "application/pdf"
    assert opened.headers["content-disposition"] == (
        "inline; filename=\"_ber uns.pdf\"; filename*=UTF-8''%C3%9Cber%20uns.pdf"
    )
    assert opened.headers["x-content-type-options"] == "nosniff"
    download = await signed_url(api, file["fileId"], action="download")
    saved = await fetch(api, download["url"])
    assert saved.headers["content-disposition"].startswith("attachment;")
    assert download["expiresAt"] == int((T0 + timedelta(minutes=60)).timestamp()) * 1000

    clock.advance(timedelta(minutes=29, seconds=59))
    assert (await fetch(api, answer["url"])).status_code == 200
    clock.advance(timedelta(seconds=1))
    expired = await fetch(api, answer["url"])
    assert (expired.status_code, error_code(expired)) == (403, "FILE_LINK_EXPIRED")
    assert (await fetch(api, download["url"])).status_code == 200  # its own hour runs on


async def test_an_altered_url_is_refused(api: Api) -> None:
    file = await uploaded(api)
    second = await uploaded(api, PNG_BYTES, filename="b.png")
    url = (await signed_url(api, file["fileId"]))["url"]
    query = parse_qs(urlsplit(url).query)
    later = str(int(query["expires"][0]) + 3600)
    altered = [
        _with_query(url, signature="A" + query["signature"][0][1:]),
        _with_query(url, expires=later),
        _with_query(url, disposition="attachment"),
        _with_query(url, tenant="tnl_someone_else"),
        _with_query(url, expires="soon"),
        url.replace(file["fileId"], second["fileId"]),
        url.split("&signature=")[0],
        url.split("?")[0],
    ]
    for bad in altered:
        response = await fetch(api, bad)
        assert (response.status_code, error_code(response)) == (403, "FILE_LINK_INVALID"), bad


async def test_url_requests_are_checked(api: Api) -> None:
    file = await uploaded(api)
    for body, path in (
        ({"expiresInMinutes": 0}, "expiresInMinutes"),
        ({"expiresInMinutes": 1441}, "expiresInMinutes"),
        ({"action": "upload"}, "action"),
        ({"fileId": ""}, "fileId"),
    ):
        response = await api.post("/v1/files/url", {"fileId": file["fileId"], **body})
        assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
        assert response.json()["error"]["details"][0]["path"] == path
    unknown = await api.post("/v1/files/url", {"fileId": "file_nope"})
    assert (unknown.status_code, error_code(unknown)) == (404, "FILE_NOT_FOUND")
    edge = await signed_url(api, file["fileId"], expiresInMinutes=1440)
    assert edge["expiresAt"] == int((T0 + timedelta(days=1)).timestamp()) * 1000


async def test_delete_removes_the_row_and_by_default_the_content(api: Api, data_dir: Path) -> None:
    kept, removed = await uploaded(api), await uploaded(api)
    link = (await signed_url(api, removed["fileId"]))["url"]
    response = await api.request("DELETE", f"/v1/files/{removed['fileId']}")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "success": True, "message": "File deleted successfully", "fileId": removed["fileId"],
    }  # fmt: skip
    assert not (data_dir / "files" / removed["storagePath"]).exists()
    gone = await api.get(f"/v1/files/{removed['fileId']}")
    assert (gone.status_code, error_code(gone)) == (404, "FILE_NOT_FOUND")
    stale = await fetch(api, link)
    assert (stale.status_code, error_code(stale)) == (404, "FILE_NOT_FOUND")
    again = await api.request("DELETE", f"/v1/files/{removed['fileId']}")
    assert (again.status_code, error_code(again)) == (404, "FILE_NOT_FOUND")

    response = await api.request(
        "DELETE", f"/v1/files/{kept['fileId']}", json={"deleteFromStorage": False}
    )
    assert response.status_code == 200, response.text
    assert (data_dir / "files" / kept["storagePath"]).read_bytes() == PDF_BYTES
    assert (await api.get("/v1/files")).json()["files"] == []


async def test_a_storage_that_refuses_to_delete_leaves_the_file(api: Api, data_dir: Path) -> None:
    file = await uploaded(api)
    stored = data_dir / "files" / file["storagePath"]
    stored.unlink()
    stored.mkdir()  # a directory where the file was: unlinking it fails, even for root
    (stored / "occupied").write_text("x")
    response = await api.request("DELETE", f"/v1/files/{file['fileId']}")
    assert (response.status_code, error_code(response)) == (500, "DELETE_FAILED")
    assert (await api.get(f"/v1/files/{file['fileId']}")).status_code == 200


async def test_uploads_are_judged_by_their_bytes(api: Api) -> None:
    png = await uploaded(api, PNG_BYTES, filename="scan.txt", content_type="text/plain")
    assert (png["contentType"], png["filename"]) == ("image/png", "scan.txt")
    assert png["storagePath"].endswith(".png")
    csv = await uploaded(api, b"sku,qty\nA,1\n", filename="items.csv", content_type="text/csv")
    assert csv["contentType"] == "text/csv"
    text = await uploaded(api, b"plain words", filename="../", content_type="text/plain")
    assert (text["contentType"], text["filename"]) == ("text/plain", "upload.txt")
    attachment = await uploaded(api, PDF_BYTES, type="attachment")
    assert attachment["type"] == "attachment"

    refused = [
        (b"MZ\x90\x00 a program", "invoice.pdf", "application/pdf", {}, 415, "UNSUPPORTED_FILE_TYPE"),
        (b"GIF89a\x01\x00", "a.gif", "image/gif", {}, 415, "UNSUPPORTED_FILE_TYPE"),
        (b"", "empty.pdf", "application/pdf", {}, 400, "VALIDATION_ERROR"),
        (PDF_BYTES, "a.pdf", "application/pdf", {"type": "invoice"}, 400, "VALIDATION_ERROR"),
        (PDF_BYTES, "a.pdf", "application/pdf", {"orderId": "ord_nope"}, 404, "ORDER_NOT_FOUND"),
        (PDF_BYTES, "a.pdf", "application/pdf", {"customerId": "cust_nope"}, 404,
         "CUSTOMER_NOT_FOUND"),
    ]  # fmt: skip
    for data, name, declared, fields, status, code in refused:
        response = await upload(api, data, name, declared, **fields)
        assert (response.status_code, error_code(response)) == (status, code), name
    missing = await api.client.post(
        "/v1/files", data={"type": "document"}, files={"other": ("a", b"x")},
        headers=auth_headers(api),
    )  # fmt: skip
    assert (missing.status_code, error_code(missing)) == (400, "VALIDATION_ERROR")
    assert len((await api.get("/v1/files")).json()["files"]) == 4


async def test_an_order_of_another_customer_is_refused(api: Api) -> None:
    await create_catalog(api)
    order = await place(api)
    other = await place(api, order_body("bob@example.com"))
    response = await upload(
        api, PDF_BYTES, orderId=order["orderId"], customerId=other["customerId"]
    )
    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
    assert response.json()["error"]["details"][0]["path"] == "customerId"


async def test_uploads_past_the_limit_are_refused(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flexbill.config import get_settings

    monkeypatch.setenv("FLEXBILL_UPLOAD_MAX_BYTES", "64")
    get_settings.cache_clear()
    exact = PDF_BYTES + b" " * (64 - len(PDF_BYTES))
    assert (await uploaded(api, exact))["fileSize"] == 64
    response = await upload(api, exact + b" ")
    assert (response.status_code, error_code(response)) == (413, "FILE_TOO_LARGE")
    assert response.json()["error"]["message"] == "Files may be at most 64 bytes"


async def test_an_upload_with_an_idempotency_key_is_stored_once(api: Api) -> None:
    # A retry sends the same bytes, multipart boundary included.
    boundary = "retry-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + PDF_BYTES
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {
        **auth_headers(api), "Idempotency-Key": "upload-1",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }  # fmt: skip
    answers = [await api.client.post("/v1/files", content=body, headers=headers) for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[1].headers.get("idempotent-replayed") == "true"
    assert answers[0].json() == answers[1].json()
    assert len((await api.get("/v1/files")).json()["files"]) == 1


async def test_files_stay_in_their_tenant_and_need_their_permission(
    api: Api, database: Any, tenant: Tenant
) -> None:
    file = await uploaded(api)
    link = (await signed_url(api, file["fileId"]))["url"]
    stranger = await new_tenant(database)
    other = Api(api.client, key=stranger.live_key, tenant_id=stranger.id)
    test_mode = api.with_key(tenant.test_key)
    for caller in (other, test_mode):
        assert (await caller.get("/v1/files")).json()["files"] == []
        for response in (
            await caller.get(f"/v1/files/{file['fileId']}"),
            await caller.post("/v1/files/url", {"fileId": file["fileId"]}),
            await caller.request("DELETE", f"/v1/files/{file['fileId']}"),
        ):
            assert (response.status_code, error_code(response)) == (404, "FILE_NOT_FOUND")
    own_link = (await signed_url(other, (await uploaded(other))["fileId"]))["url"]
    tenant_of = parse_qs(urlsplit(own_link).query)["tenant"][0]
    borrowed = _with_query(link, tenant=tenant_of)
    response = await fetch(api, borrowed)
    assert (response.status_code, error_code(response)) == (403, "FILE_LINK_INVALID")

    reader = api.with_key(await issue_key(database, tenant, permissions=["files:read"]))
    assert (await reader.get(f"/v1/files/{file['fileId']}")).status_code == 200
    assert (await reader.post("/v1/files/url", {"fileId": file["fileId"]})).status_code == 200
    for response in (
        await upload(reader, PDF_BYTES),
        await reader.request("DELETE", f"/v1/files/{file['fileId']}"),
    ):
        assert (response.status_code, error_code(response)) == (403, "INSUFFICIENT_PERMISSIONS")
    nobody = await api.client.get("/v1/files")
    assert (nobody.status_code, error_code(nobody)) == (401, "AUTH_REQUIRED")
    assert (await fetch(api, link)).status_code == 200


async def test_on_s3_files_round_trip_and_delete(
    api: Api, s3_bucket: str, s3_endpoint: str, data_dir: Path
) -> None:
    file = await uploaded(api, PNG_BYTES, filename="photo.png")
    assert await content_of(api, file["fileId"]) == PNG_BYTES
    assert not (data_dir / "files").exists()
    client = boto3.session.Session().client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )  # fmt: skip
    stored = client.get_object(Bucket=s3_bucket, Key=file["storagePath"])
    assert (stored["Body"].read(), stored["ContentType"]) == (PNG_BYTES, "image/png")
    response = await api.request("DELETE", f"/v1/files/{file['fileId']}")
    assert response.status_code == 200, response.text
    with pytest.raises(ClientError) as missing:
        client.head_object(Bucket=s3_bucket, Key=file["storagePath"])
    assert missing.value.response["Error"]["Code"] == "404"
