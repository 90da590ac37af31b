"""The server's signing secret: configured, or generated once per database so that every
process on it signs and verifies alike."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from flexbill.app import create_app
from flexbill.config import Settings, get_settings
from flexbill.core.db import Database
from flexbill.core.secrets import ServerSecret, secret_key
from flexbill.files import links
from tests.files.support import PDF_BYTES, fetch, signed_url, uploaded
from tests.support import Api, error_code


async def _stored(database: Database) -> int:
    async with database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(ServerSecret)) or 0)


async def test_a_secret_is_generated_once_and_kept(database: Database) -> None:
    assert await _stored(database) == 0
    async with database.transaction() as session:
        first = await secret_key(session)
    async with database.transaction() as session:
        second = await secret_key(session)
    assert first == second
    assert len(first) >= 43  # 32 random bytes, URL-safe base64
    assert await _stored(database) == 1


async def test_a_configured_secret_signs_instead(
    api: Api, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEXBILL_SECRET_KEY", "configured secret")
    get_settings.cache_clear()
    file = await uploaded(api)
    url = (await signed_url(api, file["fileId"]))["url"]
    query = {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
    link = links.Link(
        query["tenant"], file["fileId"], int(query["expires"]), links.Disposition.INLINE
    )
    assert query["signature"] == links.signature(b"configured secret", link)
    assert await _stored(database) == 0
    assert (await fetch(api, url)).content == PDF_BYTES


async def test_a_link_made_by_one_process_opens_on_another(api: Api, settings: Settings) -> None:
    never_signed = await fetch(
        api, "/v1/files/file_1/content?tenant=tnl_1&expires=9999999999&disposition=inline"
        "&signature=forged",
    )  # fmt: skip
    assert (never_signed.status_code, error_code(never_signed)) == (403, "FILE_LINK_INVALID")
    url = (await signed_url(api, (await uploaded(api))["fileId"]))["url"]
    other = create_app(settings)  # another API process on the same database
    try:
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            opened = await http.get(url)
    finally:
        await other.state.runtime.limiter.close()
        await other.state.runtime.database.dispose()
    assert (opened.status_code, opened.content) == (200, PDF_BYTES)
