"""What makes two orders "the same" for natural idempotency."""

from __future__ import annotations

from flexbill.orders.dedup import fingerprint

A, B = ("LAPTOP", 2, 12), ("PHONE", 1, None)


def test_the_order_of_the_items_does_not_count() -> None:
    assert fingerprint("ada@example.com", [A, B]) == fingerprint("ada@example.com", [B, A])


def test_everything_else_does() -> None:
    base = fingerprint("ada@example.com", [A, B])
    others = [
        fingerprint("bob@example.com", [A, B]),
        fingerprint("ada@example.com", [A]),
        fingerprint("ada@example.com", [A, B, B]),
        fingerprint("ada@example.com", [("LAPTOP", 3, 12), B]),
        fingerprint("ada@example.com", [("LAPTOP", 2, 24), B]),
        fingerprint("ada@example.com", [A, ("PHONE", 1, 12)]),
        fingerprint("ada@example.com", [A, B], order_type="upgrade"),
        fingerprint("ada@example.com", [A, B], order_type="upgrade", details={"id": "sub_1"}),
    ]
    assert len({base, *others}) == len(others) + 1


def test_details_compare_by_value() -> None:
    one = fingerprint("a@x.io", [A], order_type="upgrade", details={"a": 1, "b": "2"})
    two = fingerprint("a@x.io", [A], order_type="upgrade", details={"b": "2", "a": 1})
    assert one == two
