"""What the order and subscription scenarios need from the API: a catalog product to order
from, and a new order per request.

Orders are de-duplicated by customer e-mail + items (DESIGN rule 8): a repeated body would
answer the existing order instead of placing one, so every request carries its own e-mail.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import overload

from bench.bulk import CatalogVariant
from bench.loadgen import Connection, encode_request

PRODUCT_SKU = "BENCH-LAPTOP"
VARIANT_SKU = "BENCH-LAPTOP-A"
PRODUCT_NAME = "Bench Laptop 16"
VARIANT_NAME = "Space grey, grade A"

PRODUCT = {
    "productSku": PRODUCT_SKU,
    "name": PRODUCT_NAME,
    "specification": "16-inch, 32 GB",
    "category": "Laptops",
    "brand": "Acme",
    "variants": [
        {
            "variantSku": VARIANT_SKU,
            "variantName": VARIANT_NAME,
            "grade": "A",
            "listPrice": 1999,
            "acquisitionCost": 1200.5,
            "pricing": [
                {"contractLength": 12, "monthlyPrice": 59.99, "setupFee": 25},
                {"contractLength": 24, "monthlyPrice": 49.99},
            ],
        }
    ],
}

ADDRESS = {
    "contactName": "Grace Hopper",
    "streetAddress": "1 Navy Way",
    "city": "Arlington",
    "adminArea": "VA",
    "postalCode": "22202",
    "country": "US",
}


class SetupError(RuntimeError):
    """The server refused a request the benchmark needs before it can measure."""


async def create_catalog(port: int, headers: Mapping[str, str]) -> CatalogVariant:
    """Create the product the scenarios order (upsert: harmless when it exists)."""
    connection = await Connection.connect(port)
    try:
        body = json.dumps(PRODUCT).encode()
        created = await connection.send(encode_request("POST", "/v1/products", headers, body))
        if created.status not in (200, 201):
            raise SetupError(f"POST /v1/products answered {created.status}: {created.body[:500]!r}")
        path = f"/v1/products/variants?sku={VARIANT_SKU}"
        found = await connection.send(encode_request("GET", path, headers))
        variants = json.loads(found.body).get("variants", []) if found.status == 200 else []
        if len(variants) != 1:
            raise SetupError(f"GET {path} answered {found.status}: {found.body[:500]!r}")
    finally:
        await connection.close()
    return CatalogVariant(
        id=str(variants[0]["variantId"]),
        sku=VARIANT_SKU,
        product_name=PRODUCT_NAME,
        variant_name=VARIANT_NAME,
    )


def order_body(number: int) -> bytes:
    """A new order of two laptops for 12 months, by customer ``number``."""
    email = f"order-{number:08d}@example.com"
    return json.dumps(
        {
            "customer": {"email": email, "firstName": f"Buyer{number}", "lastName": "Bench"},
            "billingAddress": ADDRESS,
            "items": [{"sku": VARIANT_SKU, "quantity": 2, "contractLength": 12}],
        }
    ).encode()


class OrderRequests(Sequence[bytes]):
    """``POST /v1/orders`` requests, each of another customer, built when taken.

    Long enough that no load runs out of them (a wrapped-around request would be a repeat,
    answered 200 with the existing order and counted as an error): building them all up
    front would cost memory for requests never sent.
    """

    def __init__(self, headers: Mapping[str, str], first: int, count: int = 10_000_000) -> None:
        self._headers = dict(headers)
        self._first = first
        self._count = count

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> bytes: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[bytes]: ...

    def __getitem__(self, index: int | slice) -> bytes | Sequence[bytes]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if not -self._count <= index < self._count:
            raise IndexError(index)
        number = self._first + index % self._count
        return encode_request("POST", "/v1/orders", self._headers, order_body(number))
