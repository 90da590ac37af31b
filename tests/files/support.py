"""Helpers for files tests: uploads and links through the API as a client sends them,
fetching a link without an API key, and reading a PDF's text back."""

from __future__ import annotations

import io
from typing import Any

import httpx
from pypdf import PdfReader

from tests.support import Api

PDF_BYTES = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(20)


def auth_headers(api: Api) -> dict[str, str]:
    """The API's headers without its JSON content type (multipart sets its own)."""
    return {k: v for k, v in api.headers.items() if k != "Content-Type"}


async def upload(
    api: Api,
    data: bytes,
    filename: str = "notes.pdf",
    content_type: str = "application/pdf",
    **fields: str,
) -> httpx.Response:
    return await api.client.post(
        "/v1/files",
        files={"file": (filename, data, content_type)},
        data=fields,
        headers=auth_headers(api),
    )


async def uploaded(api: Api, data: bytes = PDF_BYTES, **kwargs: Any) -> dict[str, Any]:
    """Upload a file that must be accepted; its file object."""
    response = await upload(api, data, **kwargs)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert (body["success"], body["message"]) == (True, "File uploaded successfully")
    file: dict[str, Any] = body["file"]
    return file


async def signed_url(api: Api, file_id: str, **body: Any) -> dict[str, Any]:
    response = await api.post("/v1/files/url", {"fileId": file_id, **body})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def fetch(api: Api, url: str) -> httpx.Response:
    """Open a link as a browser would: no API key, no Tenant-ID."""
    return await api.client.get(url)


async def content_of(api: Api, file_id: str) -> bytes:
    """A file's content, through a fresh signed link."""
    response = await fetch(api, (await signed_url(api, file_id))["url"])
    assert response.status_code == 200, response.text
    return response.content


def pdf_text(data: bytes) -> str:
    """The text of every page, as a PDF reader extracts it."""
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)
