"""Offline license files, checked with exactly the snippet of docs/licenses-offline.md."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature

from flexbill.core import clock
from tests.support import Api

DOC = Path(__file__).parents[2] / "docs" / "licenses-offline.md"


def documented_verifier() -> Callable[[str, str], dict[str, Any]]:
    [snippet] = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    namespace: dict[str, Any] = {}
    exec(compile(snippet, str(DOC), "exec"), namespace)
    verifier: Callable[[str, str], dict[str, Any]] = namespace["verify_license_file"]
    return verifier


async def test_a_license_file_verifies_offline_until_it_expires(api: Api) -> None:
    verify = documented_verifier()
    product = (
        await api.post("/v1/license-products", {"name": "Studio", "type": "Inner credit"})
    ).json()["licenseProduct"]
    held = (
        await api.post(
            "/v1/licenses", {"productId": product["id"], "email": "u@example.com", "balance": 12}
        )
    ).json()["license"]
    public = (await api.get("/v1/licenses/public-key")).json()
    assert public["algorithm"] == "Ed25519"
    response = await api.get(f"/v1/licenses/{held['id']}/certificate", validDays=2)
    assert response.status_code == 200
    license_file = response.text
    claims = verify(license_file, public["publicKey"])
    assert (claims["licenseKey"], claims["balance"], claims["unit"]) == (
        held["key"],
        "12",
        "credits",
    )

    forged = json.loads(license_file)
    payload = json.loads(base64.b64decode(forged["payload"]))
    payload["balance"] = "1000000"
    forged["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    with pytest.raises(InvalidSignature):
        verify(json.dumps(forged), public["publicKey"])

    # The snippet reads the real time: a file issued ten days ago for two days is stale.
    with clock.frozen(datetime.now(UTC) - timedelta(days=10)):
        stale = await api.get(f"/v1/licenses/{held['id']}/certificate", validDays=2)
    with pytest.raises(ValueError, match="the license file has expired"):
        verify(stale.text, public["publicKey"])

    await api.post(f"/v1/licenses/{held['id']}/revoke", {})
    refused = await api.get(f"/v1/licenses/{held['id']}/certificate")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "LICENSE_REVOKED")


async def test_no_public_key_before_the_first_product(api: Api) -> None:
    missing = await api.get("/v1/licenses/public-key")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "SIGNING_KEY_MISSING")
