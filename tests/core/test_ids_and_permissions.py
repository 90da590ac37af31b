from __future__ import annotations

import pytest

from flexbill.core.ids import new_id
from flexbill.tenancy import keys, permissions


def test_ids_are_prefixed_unique_and_time_ordered() -> None:
    ids = [new_id("cust") for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("cust_") and len(i) == 31 for i in ids)
    assert [i[:15] for i in ids] == sorted(i[:15] for i in ids)


def test_ids_of_one_process_sort_in_creation_order() -> None:
    """Many ids share a millisecond; each still sorts after the one made before it, so
    rows keyed by them (events) read back in the order they were written."""
    ids = [new_id("evt") for _ in range(5000)]
    assert ids == sorted(ids)


@pytest.mark.parametrize(
    ("held", "wanted", "granted"),
    [
        ({"*"}, "customers:write", True),
        ({"*"}, "admin", True),
        ({"customers:read"}, "customers:read", True),
        ({"customers:read"}, "customers:write", False),
        ({"customers:write"}, "customers:read", True),
        ({"customers:write"}, "orders:read", False),
        ({"admin"}, "customers:read", False),
        (set(), "customers:read", False),
    ],
)
def test_grants(held: set[str], wanted: str, granted: bool) -> None:
    assert permissions.grants(frozenset(held), wanted) is granted


def test_key_format_tells_live_from_test() -> None:
    live, test = keys.generate("live", "eu"), keys.generate("test", "eu")
    assert live.startswith("pk_live_eu_")
    assert test.startswith("pk_test_eu_")
    assert len(live) == len("pk_live_eu_") + 32
    assert keys.digest(live) != keys.digest(test)
    assert len(keys.digest(live)) == 64
