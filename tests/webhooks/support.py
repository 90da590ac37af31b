"""A real webhook receiver on loopback, and helpers to drive deliveries from tests.

The receiver is a small HTTP/1.1 server (asyncio streams) that verifies every request with
the ``standardwebhooks`` package, as a receiver in any language would, and answers as the
test tells it: 2xx, an error status, or not at all until released (a hanging receiver).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from flexbill.core.db import Database
from flexbill.core.jobs import Job
from flexbill.worker.handlers import SCHEDULE
from flexbill.worker.registry import REGISTRY
from flexbill.worker.runner import Worker
from tests.support import Api


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Receiver:
    """Answers ``status`` (or what ``answer`` says for a request) to verified requests and
    401 to requests whose signature does not verify with the secret of their path."""

    port: int = field(default_factory=free_port)
    secrets: dict[str, str] = field(default_factory=dict)  # path → the endpoint's secret
    status: int = 200
    answer: Callable[[Received], int | None] | None = None
    hold: asyncio.Event | None = None  # while set to an unset event, requests hang
    reply: bytes | None = None  # the body of every answer; by default a short JSON
    received: list[Received] = field(default_factory=list)
    waiting: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def url(self, path: str = "hooks") -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    async def start(self) -> Receiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    def delivered(self, path: str = "hooks") -> list[Received]:
        """The requests to ``path`` answered 2xx, in the order they came."""
        return [r for r in self.received if r.path == path and 200 <= r.answered < 300]

    def delivered_ids(self, path: str = "hooks") -> list[str]:
        return [r.webhook_id for r in self.delivered(path)]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while await self._one_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        path = lines[0].split(" ")[1].lstrip("/")
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        verified = self._verifies(self.secrets.get(path), body, headers)
        request = Received(path, headers, body, verified, answered=0)
        if self.hold is not None and not self.hold.is_set():
            self.waiting += 1
            try:
                await self.hold.wait()
            finally:
                self.waiting -= 1
        status = self.status
        if self.answer is not None:
            status = self.answer(request) or status
        if not verified:
            status = 401
        request.answered = status
        self.received.append(request)
        text = self.reply or json.dumps({"received": headers.get("webhook-id")}).encode()
        writer.write(
            f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n"
            f"content-length: {len(text)}\r\n\r\n".encode()
            + text
        )
        await writer.drain()
        return True

    @staticmethod
    def _verifies(secret: str | None, body: bytes, headers: dict[str, str]) -> bool:
        if secret is None:
            return False
        try:
            Webhook(secret).verify(body, headers)
        except WebhookVerificationError:
            return False
        return True


def worker(database: Database, *, with_schedule: bool = False) -> Worker:
    return Worker(database, REGISTRY, schedule=SCHEDULE if with_schedule else ())


async def deliver(database: Database, *, with_schedule: bool = False) -> int:
    """Run every job due now (delivery rounds among them) until none is left."""
    return await worker(database, with_schedule=with_schedule).run_until_idle()


async def create_endpoint(api: Api, url: str, **fields: Any) -> tuple[str, str]:
    """A new endpoint; its id and secret."""
    response = await api.post("/v1/webhook-endpoints", {"url": url, **fields})
    assert response.status_code == 201, response.text
    body = response.json()
    return body["webhookEndpoint"]["webhookEndpointId"], body["secret"]


async def listen(api: Api, receiver: Receiver, path: str = "hooks", **fields: Any) -> str:
    """An endpoint of the API's tenant that posts to ``path`` of ``receiver``, whose
    secret the receiver verifies with; its id."""
    endpoint_id, secret = await create_endpoint(api, receiver.url(path), **fields)
    receiver.secrets[path] = secret
    return endpoint_id


async def deliveries(api: Api, endpoint_id: str, **params: Any) -> list[dict[str, Any]]:
    """The endpoint's deliveries, oldest first."""
    response = await api.get(
        f"/v1/webhook-endpoints/{endpoint_id}/deliveries", sortDir="asc", limit=100, **params
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["deliveries"]
    return found


async def delivery(api: Api, endpoint_id: str, delivery_id: str) -> dict[str, Any]:
    response = await api.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["delivery"]
    return found


async def jobs_of_kind(database: Database, kind: str) -> list[Job]:
    async with database.transaction() as session:
        return list((await session.scalars(select(Job).where(Job.kind == kind))).all())
