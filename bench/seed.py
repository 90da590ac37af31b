"""Seed customers through the public API, so the data has exactly the shape the server
writes itself (IDs, tenant, timestamps) without the benchmark knowing the schema."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping

from bench.loadgen import Connection, encode_request

SEED_TIMEOUT_SECONDS = 300.0


class SeedError(RuntimeError):
    """The server refused to create a customer."""


def customer_body(number: int) -> bytes:
    return json.dumps(
        {
            "email": f"bench-{number:06d}@example.com",
            "firstName": f"First{number}",
            "lastName": f"Last{number}",
        }
    ).encode()


async def seed_customers(
    port: int, headers: Mapping[str, str], count: int, *, connections: int = 4
) -> list[str]:
    """Create ``count`` customers over a few connections; their IDs in creation order.

    A few connections rather than one keep the server busy while each answer travels back;
    more would only queue behind SQLite's single writer.
    """
    numbers = iter(range(count))
    created: dict[int, str] = {}

    async def worker() -> None:
        connection = await Connection.connect(port)
        try:
            for number in numbers:
                request = encode_request("POST", "/v1/customers", headers, customer_body(number))
                response = await connection.send(request)
                if response.status != 201:
                    raise SeedError(
                        f"POST /v1/customers answered {response.status}: {response.body[:500]!r}"
                    )
                created[number] = str(json.loads(response.body)["customer"]["customerId"])
        finally:
            await connection.close()

    async with asyncio.timeout(SEED_TIMEOUT_SECONDS):
        await asyncio.gather(*(worker() for _ in range(max(1, connections))))
    return [created[number] for number in range(count)]
