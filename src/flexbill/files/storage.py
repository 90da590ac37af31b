"""Where the bytes of files live, behind one interface: a local directory by default, an
S3-compatible bucket when ``FLEXBILL_S3_BUCKET`` is configured.

Keys are relative paths made of plain segments (``tnl_…/file_….pdf``); anything else is
refused, so no key reaches outside the directory or the bucket's namespace. Objects are
read whole: uploads are bounded by ``upload_max_bytes``, documents are small, and the
request edge holds a whole response anyway (``api/unit_of_work.py``).
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from flexbill.config import get_settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

T = TypeVar("T")

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")
MAX_KEY_LENGTH = 300
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


class StorageError(Exception):
    """The storage could not do what was asked (refused, unreachable, broken)."""


class ObjectMissing(StorageError):
    """No object is stored under the key."""


def check_key(key: str) -> str:
    """``key`` if it is a safe relative key, else ``ValueError``."""
    if len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class Storage(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key``, replacing what was there, all at once or not at
        all."""

    async def get(self, key: str) -> bytes:
        """The bytes under ``key``; ``ObjectMissing`` when there are none."""

    async def delete(self, key: str) -> None:
        """Remove ``key``; nothing to remove is fine, a refusal is ``StorageError``."""

    async def exists(self, key: str) -> bool: ...


class LocalStorage:
    """Files under one directory; a write lands in a temporary file first and is renamed
    into place, so a reader never sees half a file."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path_of(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"not a storage key: {key!r}")  # a symlink pointing out
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._put, self.path_of(key), data)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._get, self.path_of(key))

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, self.path_of(key))

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path_of(key).is_file)

    @staticmethod
    def _put(path: Path, data: bytes) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise StorageError(f"cannot write {path.name}: {error}") from error

    @staticmethod
    def _get(path: Path) -> bytes:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise ObjectMissing(path.name) from None
        except OSError as error:
            raise StorageError(f"cannot read {path.name}: {error}") from error

    @staticmethod
    def _delete(path: Path) -> None:
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            raise StorageError(f"cannot delete {path.name}: {error}") from error


class S3Storage:
    """Objects in one bucket of an S3-compatible service. boto3 blocks, so each call runs
    in a thread; its client is safe to share between threads."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        def put() -> None:
            self.client.put_object(
                Bucket=self.bucket, Key=check_key(key), Body=data, ContentType=content_type
            )

        await self._call(put)

    async def get(self, key: str) -> bytes:
        def get() -> bytes:
            answer = self.client.get_object(Bucket=self.bucket, Key=check_key(key))
            return answer["Body"].read()

        return await self._call(get)

    async def delete(self, key: str) -> None:
        def delete() -> None:
            self.client.delete_object(Bucket=self.bucket, Key=check_key(key))

        await self._call(delete)

    async def exists(self, key: str) -> bool:
        def head() -> bool:
            self.client.head_object(Bucket=self.bucket, Key=check_key(key))
            return True

        try:
            return await self._call(head)
        except ObjectMissing:
            return False

    @staticmethod
    async def _call(work: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(work)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in _MISSING_CODES:
                raise ObjectMissing(code) from None
            raise StorageError(f"S3 refused: {code or error}") from error
        except BotoCoreError as error:
            raise StorageError(f"S3 unreachable: {error}") from error


@lru_cache(maxsize=4)
def s3_storage(
    bucket: str,
    endpoint_url: str | None,
    region: str,
    access_key_id: str | None,
    secret_access_key: str | None,
) -> S3Storage:
    """One client per configuration: creating one costs far more than a request."""
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        # Fail over to the caller (and its retries) quickly rather than hang a request.
        config=Config(
            connect_timeout=5, read_timeout=30, retries={"max_attempts": 2, "mode": "standard"}
        ),
    )
    return S3Storage(client, bucket)


def configured_storage() -> Storage:
    """The storage the settings name: the S3 bucket if one is configured, else the
    ``files`` directory under ``data_dir``."""
    settings = get_settings()
    if settings.s3_bucket:
        return s3_storage(
            settings.s3_bucket, settings.s3_endpoint_url, settings.s3_region,
            settings.s3_access_key_id, settings.s3_secret_access_key,
        )  # fmt: skip
    return LocalStorage(settings.data_dir / "files")
