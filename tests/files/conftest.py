"""Every files test keeps its documents in its own directory, and links point at the test
client's host; ``s3_bucket`` switches the storage to a fresh bucket on a local S3 server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import boto3
import pytest
from moto.server import ThreadedMotoServer

from flexbill.config import get_settings

_STORAGE_VARIABLES = (
    "FLEXBILL_S3_BUCKET", "FLEXBILL_S3_ENDPOINT_URL", "FLEXBILL_S3_ACCESS_KEY_ID",
    "FLEXBILL_S3_SECRET_ACCESS_KEY", "FLEXBILL_SECRET_KEY", "FLEXBILL_UPLOAD_MAX_BYTES",
)  # fmt: skip


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Narrows the suite's session-wide ``data_dir`` to this test, so that a test sees
    exactly the files it stored."""
    directory = tmp_path / "data"
    monkeypatch.setenv("FLEXBILL_DATA_DIR", str(directory))
    monkeypatch.setenv("FLEXBILL_PUBLIC_URL", "http://testserver")
    for name in _STORAGE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield directory
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible server (moto's) on loopback, shared by the session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def s3_session_bucket(s3_endpoint: str) -> str:
    """One bucket for the session: keys name their tenant (or the test), so tests sharing
    it never meet, and flexbill's S3 client is made once."""
    name = f"flexbill-{uuid4().hex[:12]}"
    client = boto3.session.Session().client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )  # fmt: skip
    client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_bucket(s3_endpoint: str, s3_session_bucket: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The S3 bucket, configured as flexbill's storage for this test."""
    for variable, value in (
        ("FLEXBILL_S3_BUCKET", s3_session_bucket), ("FLEXBILL_S3_ENDPOINT_URL", s3_endpoint),
        ("FLEXBILL_S3_ACCESS_KEY_ID", "test"), ("FLEXBILL_S3_SECRET_ACCESS_KEY", "test"),
    ):  # fmt: skip
        monkeypatch.setenv(variable, value)
    get_settings.cache_clear()
    return s3_session_bucket
