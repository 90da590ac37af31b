"""POSTing signed webhook messages (Standard Webhooks), without touching the database.

Each endpoint's messages go one after the other, oldest first, and stop at the first that
fails, so that a receiver never gets an event before an earlier one; different endpoints
are served at the same time. Every POST is bounded by the configured timeout as a whole
(connecting, sending, and reading the first bytes of the answer).
"""

from __future__ import annotations

import asyncio
import codecs
import importlib.util
import ssl
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from math import floor

import certifi
import httpx
from standardwebhooks.webhooks import Webhook

from flexbill import __version__
from flexbill.core import clock
from flexbill.webhooks import addresses
from flexbill.webhooks.models import MAX_RESPONSE_BODY_LENGTH

MAX_ERROR_LENGTH = 500
USER_AGENT = f"flexbill-webhooks/{__version__}"

if importlib.util.find_spec("sniffio") is None:
    # httpcore tries ``import sniffio`` on every lock it takes, several per request; when
    # it is not installed each try searches the whole import path again (about a
    # millisecond, more than the rest of a POST on loopback). Recording it as missing
    # makes the failed import instant; it changes nothing else, as it is not installed.
    sys.modules["sniffio"] = None  # type: ignore[assignment]


@cache
def _tls() -> ssl.SSLContext:
    # Built once: loading the CA bundle costs about 0.1 s of CPU, per client otherwise.
    return ssl.create_default_context(cafile=certifi.where())


@dataclass(frozen=True)
class Message:
    delivery_id: str  # the ``webhook-id``: the same on every attempt
    body: bytes


@dataclass(frozen=True)
class Target:
    """An endpoint and the messages a round sends to it, in order."""

    tenant_id: str
    endpoint_id: str
    url: str
    secret: str
    messages: Sequence[Message]


@dataclass(frozen=True)
class Outcome:
    delivery_id: str
    attempted_at: datetime
    url: str
    succeeded: bool
    status_code: int | None
    latency_ms: int
    response_body: str | None
    error: str | None


def signed_headers(secret: str, message_id: str, body: bytes, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt sent at ``at``."""
    signature = Webhook(secret).sign(message_id, at.astimezone(UTC), body.decode())
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(floor(at.timestamp())),
        "webhook-signature": signature,
    }


def _wall_clock() -> datetime:
    # Not flexbill's clock: receivers check ``webhook-timestamp`` against their own clock
    # (five minutes of tolerance) to refuse replayed messages, so it must be the real
    # time of sending even while tests or test clocks move flexbill's time.
    return datetime.now(UTC)


def _text(raw: str, limit: int) -> str:
    # PostgreSQL cannot store NUL, and flexbill refuses it everywhere.
    return raw.replace("\x00", "\ufffd")[:limit]


async def _read_start(response: httpx.Response) -> str:
    """The first 2 KB of the answer as text (a character cut in two at the end left out);
    the rest is never read."""
    collected = bytearray()
    async for chunk in response.aiter_bytes():
        collected.extend(chunk)
        if len(collected) >= MAX_RESPONSE_BODY_LENGTH:
            break
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    return _text(
        decoder.decode(bytes(collected[:MAX_RESPONSE_BODY_LENGTH])), MAX_RESPONSE_BODY_LENGTH
    )


class RefusedTarget(Exception):
    """The endpoint's address is not public and the server refuses such targets."""


async def post(
    client: httpx.AsyncClient, target: Target, message: Message, timeout_seconds: float
) -> Outcome:
    """One attempt: 2xx is success; any other status, a timeout or a connection that
    fails is a failure, described in ``error``."""
    attempted_at = clock.now()
    headers = signed_headers(target.secret, message.delivery_id, message.body, _wall_clock())
    started = time.perf_counter()
    status_code: int | None = None
    response_body: str | None = None
    error: str | None = None
    refused = await addresses.refusal(target.url)
    try:
        if refused is not None:
            raise RefusedTarget(refused)
        async with asyncio.timeout(timeout_seconds):
            request = client.build_request(
                "POST", target.url, content=message.body, headers=headers
            )
            response = await client.send(request, stream=True)
            try:
                status_code = response.status_code
                response_body = await _read_start(response)
            finally:
                await response.aclose()
    except TimeoutError:
        error = f"No answer within {timeout_seconds:g} s"
    except httpx.TimeoutException:
        error = f"No answer within {timeout_seconds:g} s"
    except httpx.ConnectError as failure:
        error = f"Could not connect: {str(failure) or type(failure).__name__}"
    except httpx.HTTPError as failure:
        error = f"{type(failure).__name__}: {failure}"
    except RefusedTarget as failure:
        error = f"Not sent: {failure}"
    latency_ms = round((time.perf_counter() - started) * 1000)
    succeeded = status_code is not None and 200 <= status_code < 300 and error is None
    if error is None and not succeeded:
        error = f"The receiver answered HTTP {status_code}"
    return Outcome(
        delivery_id=message.delivery_id, attempted_at=attempted_at, url=target.url,
        succeeded=succeeded, status_code=status_code, latency_ms=latency_ms,
        response_body=response_body or None,
        error=None if error is None else _text(error, MAX_ERROR_LENGTH),
    )  # fmt: skip


async def send_in_order(
    client: httpx.AsyncClient, target: Target, timeout_seconds: float, budget_seconds: float
) -> list[Outcome]:
    """Send the target's messages in order until one fails or the round's time is up
    (the rest wait for the next round, still in order)."""
    outcomes: list[Outcome] = []
    started = time.monotonic()
    for message in target.messages:
        if outcomes and time.monotonic() - started > budget_seconds:
            break
        outcome = await post(client, target, message, timeout_seconds)
        outcomes.append(outcome)
        if not outcome.succeeded:
            break
    return outcomes


async def send_all(
    targets: Sequence[Target], timeout_seconds: float, budget_seconds: float
) -> list[list[Outcome]]:
    """Serve every target at once; the outcomes of each target, in the targets' order."""
    limits = httpx.Limits(max_connections=max(len(targets), 1), max_keepalive_connections=None)
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_seconds),
        follow_redirects=False,
        limits=limits,
        verify=_tls(),
    ) as client:
        return list(
            await asyncio.gather(
                *(
                    send_in_order(client, target, timeout_seconds, budget_seconds)
                    for target in targets
                )
            )
        )
