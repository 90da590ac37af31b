"""One contract, two storages: a local directory and an S3 bucket on a real
S3-compatible server (moto's, on loopback) behave alike."""

from __future__ import annotations

import os
from pathlib import Path
from uuid import uuid4

import boto3
import pytest

from flexbill.config import get_settings
from flexbill.files.storage import (
    LocalStorage,
    ObjectMissing,
    S3Storage,
    Storage,
    check_key,
    configured_storage,
)


@pytest.fixture
def prefix() -> str:
    """Where one test's keys live (the S3 bucket is shared by the session)."""
    return f"tnl_{uuid4().hex}"


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "files")
    request.getfixturevalue("s3_bucket")
    s3 = configured_storage()
    assert isinstance(s3, S3Storage)
    return s3


async def test_put_get_exists_delete(storage: Storage, prefix: str) -> None:
    key = f"{prefix}/file_1.pdf"
    assert await storage.exists(key) is False
    await storage.put(key, b"%PDF-1 first", "application/pdf")
    assert await storage.exists(key) is True
    assert await storage.get(key) == b"%PDF-1 first"
    await storage.put(key, b"%PDF-1 second", "application/pdf")
    assert await storage.get(key) == b"%PDF-1 second"
    await storage.delete(key)
    assert await storage.exists(key) is False
    with pytest.raises(ObjectMissing):
        await storage.get(key)
    await storage.delete(key)  # deleting what is gone is no error


async def test_keys_are_separate_and_binary_safe(storage: Storage, prefix: str) -> None:
    payloads = {f"{prefix}/{n}/invoices/inv_{n}.pdf": bytes(range(256)) * n for n in (1, 2, 3)}
    for key, data in payloads.items():
        await storage.put(key, data, "application/octet-stream")
    for key, data in payloads.items():
        assert await storage.get(key) == data
    await storage.delete(f"{prefix}/2/invoices/inv_2.pdf")
    assert [await storage.exists(key) for key in payloads] == [True, False, True]


@pytest.mark.parametrize(
    "key",
    ["../escape", "tnl_1/../../etc/passwd", "/absolute", "tnl_1//double", "", ".hidden",
     "tnl_1/", "space key", "x" * 301],
)  # fmt: skip
async def test_keys_that_could_escape_are_refused(storage: Storage, key: str) -> None:
    with pytest.raises(ValueError, match="not a storage key"):
        await storage.put(key, b"x", "text/plain")
    with pytest.raises(ValueError, match="not a storage key"):
        await storage.get(key)


def test_check_key_accepts_plain_segments() -> None:
    assert check_key("tnl_01abc/file_01xyz.pdf") == "tnl_01abc/file_01xyz.pdf"


async def test_a_local_write_is_renamed_into_place(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    await storage.put("tnl_1/file_1.pdf", b"%PDF-1", "application/pdf")
    assert os.listdir(tmp_path / "tnl_1") == ["file_1.pdf"]  # no partial file left behind
    assert (tmp_path / "tnl_1" / "file_1.pdf").read_bytes() == b"%PDF-1"


async def test_a_symlink_out_of_the_directory_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    root = tmp_path / "files"
    root.mkdir()
    (root / "tnl_1").symlink_to(outside)
    with pytest.raises(ValueError, match="not a storage key"):
        await LocalStorage(root).get("tnl_1/secret.txt")


def test_the_settings_choose_the_storage(
    data_dir: Path, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = configured_storage()
    assert isinstance(chosen, S3Storage)
    assert chosen.bucket == s3_bucket
    monkeypatch.delenv("FLEXBILL_S3_BUCKET")
    get_settings.cache_clear()
    local = configured_storage()
    assert isinstance(local, LocalStorage)
    assert local.root == (data_dir / "files").resolve()


async def test_s3_objects_carry_their_content_type(
    s3_bucket: str, s3_endpoint: str, prefix: str
) -> None:
    await configured_storage().put(f"{prefix}/file_1.png", b"\x89PNG", "image/png")
    client = boto3.session.Session().client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )  # fmt: skip
    head = client.head_object(Bucket=s3_bucket, Key=f"{prefix}/file_1.png")
    assert (head["ContentType"], head["ContentLength"]) == ("image/png", 4)
