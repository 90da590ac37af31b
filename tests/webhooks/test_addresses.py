"""Refusing webhook targets that are not public, when the server is told to."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import pytest

from flexbill.webhooks.addresses import is_public
from flexbill.webhooks.sending import Message, Target, send_all
from tests.support import Api, error_code


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("93.184.216.34", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("127.8.9.10", False),
        ("10.0.0.5", False),
        ("172.16.0.1", False),
        ("192.168.1.20", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("::ffff:8.8.8.8", True),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "https://10.1.2.3/in",
    ],
)
async def test_endpoints_at_private_addresses_are_refused_when_configured(
    api: Api, configure: Callable[..., None], url: str
) -> None:
    configure(webhook_private_targets="false")
    response = await api.post("/v1/webhook-endpoints", {"url": url, "events": ["*"]})
    assert response.status_code == 400, response.text
    assert error_code(response) == "VALIDATION_ERROR"
    [detail] = response.json()["error"]["details"]
    assert (detail["path"], detail["code"]) == ("url", "not_public_address")
    listed = await api.get("/v1/webhook-endpoints")
    assert listed.json()["webhookEndpoints"] == []


async def test_public_addresses_and_the_default_are_accepted(
    api: Api, configure: Callable[..., None]
) -> None:
    allowed = await api.post(
        "/v1/webhook-endpoints", {"url": "http://127.0.0.1:9/hook", "events": ["*"]}
    )
    assert allowed.status_code == 201, allowed.text
    configure(webhook_private_targets="false")
    public = await api.post(
        "/v1/webhook-endpoints", {"url": "https://93.184.216.34/hook", "events": ["*"]}
    )
    assert public.status_code == 201, public.text
    endpoint_id = allowed.json()["webhookEndpoint"]["webhookEndpointId"]
    moved = await api.patch(f"/v1/webhook-endpoints/{endpoint_id}", {"url": "http://[::1]/x"})
    assert moved.status_code == 400
    assert moved.json()["error"]["details"][0]["code"] == "not_public_address"


async def test_a_delivery_to_a_private_address_is_not_sent(
    configure: Callable[..., None],
) -> None:
    configure(webhook_private_targets="false")
    target = Target(
        tenant_id="tnl_x", endpoint_id="we_x", url="http://127.0.0.1:9/hook", secret="whsec_"
        + "A" * 44, messages=[Message(delivery_id="msg_1", body=b"{}")],
    )  # fmt: skip
    [[outcome]] = await send_all([target], timeout_seconds=2, budget_seconds=5)
    assert not outcome.succeeded
    assert outcome.status_code is None
    assert outcome.error is not None
    assert outcome.error.startswith("Not sent: '127.0.0.1' resolves to 127.0.0.1")
