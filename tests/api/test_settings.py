"""``GET`` and ``PATCH /v1/settings``: the business unit's rules, per environment."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from flexbill.core.db import Database
from tests.support import Api, Tenant, error_code, issue_key, new_tenant

DEFAULTS: dict[str, Any] = {
    "currency": "EUR",
    "vat": {"enabled": False, "rate": 0, "mode": "exclusive"},
    "paymentTerms": "due_immediately",
    "billingCycle": {"type": "subscription_start", "dayOfMonth": None},
    "firstPayment": "full_month",
    "lateFees": {
        "enabled": False, "type": "flat", "amount": None, "percentage": None,
        "gracePeriodDays": 0,
    },
    "paymentRetry": {
        "automatic": False, "attempts": 3, "intervalDays": 3, "finalOutcome": "stay_active",
    },
    "buyout": {
        "method": "remaining_months", "flatFee": None, "rrpPercentage": None,
        "allowManualOverride": True, "allowRrpEstimation": False,
    },
    "earlyReturn": {
        "method": "remaining_months", "flatFee": None, "feePercentage": 100,
        "gracePeriodDays": 14, "partialMonthRounding": "up", "chargeCurrentMonth": True,
        "allowManualOverride": True,
    },
    "extensions": {
        "availableLengths": [6, 12], "maxExtensions": 3, "minDaysBeforeEnd": 0,
        "approvalRequired": False, "createTrackingOrder": True,
    },
    "contractEnd": "auto_renew_monthly",
    "contractLengths": [
        {"months": 6, "adjustmentPercent": 0}, {"months": 12, "adjustmentPercent": 0},
        {"months": 24, "adjustmentPercent": 0}, {"months": 36, "adjustmentPercent": 0},
    ],
    "idPrefixes": {"order": None, "subscription": None, "asset": None, "customer": None},
    "orders": {"idempotencyWindowMinutes": 10},
    "company": {
        "name": "", "address": "", "email": None, "phone": None, "vatId": None,
        "registrationNumber": None,
    },
    "notifications": {"emailInvoices": False, "emailPaymentFailures": False},
    "updatedAt": None,
}  # fmt: skip


async def patch(api: Api, body: Any, **headers: str) -> httpx.Response:
    return await api.request("PATCH", "/v1/settings", json=body, headers=headers)


async def settings_of(api: Api) -> dict[str, Any]:
    response = await api.get("/v1/settings")
    assert response.status_code == 200, response.text
    settings: dict[str, Any] = response.json()["settings"]
    return settings


async def patched(api: Api, body: Any) -> dict[str, Any]:
    response = await patch(api, body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["success"] is True
    assert answer["message"]
    settings: dict[str, Any] = answer["settings"]
    return settings


def problems(response: httpx.Response) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.text
    assert error_code(response) == "VALIDATION_ERROR"
    return [(d["path"], d["code"]) for d in response.json()["error"]["details"]]


def without_updated_at(settings: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in settings.items() if name != "updatedAt"}


async def test_a_new_business_unit_has_the_defaults(api: Api) -> None:
    response = await api.get("/v1/settings")
    assert response.status_code == 200
    assert response.json() == {"settings": DEFAULTS}


async def test_patching_one_nested_field_keeps_the_rest(api: Api) -> None:
    settings = await patched(api, {"vat": {"rate": 19}})
    assert settings["vat"] == {"enabled": False, "rate": 19, "mode": "exclusive"}
    settings = await patched(api, {"vat": {"enabled": True}})
    assert settings["vat"] == {"enabled": True, "rate": 19, "mode": "exclusive"}
    assert without_updated_at(settings) == {**without_updated_at(DEFAULTS), "vat": settings["vat"]}
    assert settings["updatedAt"].endswith("Z")
    assert await settings_of(api) == settings


async def test_lists_replace_what_was_there(api: Api) -> None:
    lengths = [{"months": 18, "adjustmentPercent": -12.5}, {"months": 48}]
    settings = await patched(
        api, {"contractLengths": lengths, "extensions": {"availableLengths": [3]}}
    )
    assert settings["contractLengths"] == [
        {"months": 18, "adjustmentPercent": -12.5}, {"months": 48, "adjustmentPercent": 0},
    ]  # fmt: skip
    assert settings["extensions"]["availableLengths"] == [3]
    assert settings["extensions"]["maxExtensions"] == 3
    assert (await settings_of(api))["contractLengths"] == settings["contractLengths"]


async def test_null_returns_a_field_to_its_default(api: Api) -> None:
    await patched(api, {"paymentTerms": "net_30", "vat": {"enabled": True, "rate": 7}})
    settings = await patched(api, {"paymentTerms": None, "vat": {"rate": None}})
    assert settings["paymentTerms"] == "due_immediately"
    assert settings["vat"] == {"enabled": True, "rate": 0, "mode": "exclusive"}


async def test_the_result_is_validated_as_a_whole(api: Api) -> None:
    response = await patch(api, {"billingCycle": {"type": "fixed_day"}})
    assert problems(response) == [("billingCycle.dayOfMonth", "invalid_type")]
    settings = await patched(api, {"billingCycle": {"type": "fixed_day", "dayOfMonth": 15}})
    assert settings["billingCycle"] == {"type": "fixed_day", "dayOfMonth": 15}
    # The day stored by the earlier patch does not apply to another cycle type.
    response = await patch(api, {"billingCycle": {"type": "every_30_days"}})
    assert problems(response) == [("billingCycle.dayOfMonth", "custom")]
    settings = await patched(api, {"billingCycle": {"type": "every_30_days", "dayOfMonth": None}})
    assert settings["billingCycle"] == {"type": "every_30_days", "dayOfMonth": None}


async def test_rules_across_fields_point_at_the_field_to_fix(api: Api) -> None:
    response = await patch(
        api,
        {
            "lateFees": {"enabled": True, "type": "percentage"},
            "buyout": {"method": "flat_fee"},
            "contractLengths": [{"months": 12}, {"months": 12}],
            "extensions": {"availableLengths": [6, 6]},
            "vat": {"rate": 100.5},
        },
    )
    assert sorted(problems(response)) == [
        ("buyout.flatFee", "invalid_type"),
        ("contractLengths.1.months", "custom"),
        ("extensions.availableLengths.1", "custom"),
        ("lateFees.percentage", "invalid_type"),
        ("vat.rate", "too_big"),
    ]


@pytest.mark.parametrize(
    "field",
    [
        "vat.mode", "paymentTerms", "billingCycle.type", "firstPayment", "lateFees.type",
        "buyout.method", "earlyReturn.method", "earlyReturn.partialMonthRounding",
        "contractEnd",
    ],
)  # fmt: skip
async def test_every_enum_refuses_unknown_values(api: Api, field: str) -> None:
    body: Any = "monthly"
    for name in reversed(field.split(".")):
        body = {name: body}
    response = await patch(api, body)
    assert problems(response) == [(field, "invalid_enum_value")]


@pytest.mark.parametrize("currency", ["EUR", "USD"])
async def test_currency_is_read_only(api: Api, currency: str) -> None:
    response = await patch(api, {"currency": currency, "vat": {"rate": 5}})
    assert problems(response) == [("currency", "read_only")]
    assert response.json()["error"]["message"] == (
        "currency is fixed when the business unit is created"
    )
    assert await settings_of(api) == DEFAULTS


async def test_amounts_have_the_currencys_decimals(api: Api) -> None:
    response = await patch(api, {"earlyReturn": {"method": "flat_fee", "flatFee": 12.345}})
    assert problems(response) == [("earlyReturn.flatFee", "not_multiple_of")]
    response = await patch(api, {"earlyReturn": {"method": "flat_fee", "flatFee": 12.34}})
    assert response.status_code == 200
    assert '"flatFee":12.34' in response.text
    assert (await settings_of(api))["earlyReturn"]["flatFee"] == 12.34
    response = await patch(api, {"buyout": {"method": "flat_fee", "flatFee": 1000}})
    assert '"flatFee":1000.00' in response.text


@pytest.mark.parametrize(
    ("body", "path", "code"),
    [
        ({"lateFees": {"amount": -1}}, "lateFees.amount", "too_small"),
        ({"lateFees": {"amount": "12.00"}}, "lateFees.amount", "invalid_type"),
        ({"lateFees": {"amount": True}}, "lateFees.amount", "invalid_type"),
        ({"lateFees": {"amount": 1e300}}, "lateFees.amount", "too_big"),
        ({"vat": {"rate": 19.555}}, "vat.rate", "not_multiple_of"),
    ],
)
async def test_amounts_and_percentages_that_are_refused(
    api: Api, body: dict[str, Any], path: str, code: str
) -> None:
    assert problems(await patch(api, body)) == [(path, code)]


async def test_amounts_follow_the_business_units_currency(
    client: httpx.AsyncClient, database: Database
) -> None:
    unit = await new_tenant(database, currency="JPY")
    yen = Api(client, key=unit.live_key, tenant_id=unit.id)
    response = await patch(yen, {"lateFees": {"enabled": True, "amount": 500.5}})
    assert problems(response) == [("lateFees.amount", "not_multiple_of")]
    response = await patch(yen, {"lateFees": {"enabled": True, "amount": 500}})
    assert response.status_code == 200
    assert '"amount":500,' in response.text
    assert response.json()["settings"]["currency"] == "JPY"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"colour": "blue"}, "colour"),
        ({"vat": {"country": "DE"}}, "vat.country"),
        ({"billingCycle": {"day_of_month": 5}}, "billingCycle.day_of_month"),
        ({"payment_terms": "net_7"}, "payment_terms"),
        ({"contractLengths": [{"months": 6, "discount": 5}]}, "contractLengths.0.discount"),
        ({"updatedAt": "2030-01-01T00:00:00Z"}, "updatedAt"),
    ],
)
async def test_unknown_fields_are_refused_by_name(
    api: Api, body: dict[str, Any], path: str
) -> None:
    details = problems(await patch(api, body))
    assert [p for p, _ in details] == [path]


async def test_the_body_must_be_an_object(api: Api) -> None:
    assert problems(await patch(api, [{"vat": {"rate": 5}}]))


async def test_nothing_is_stored_when_a_patch_fails(api: Api) -> None:
    response = await patch(api, {"vat": {"rate": 19}, "paymentTerms": "net_60"})
    assert problems(response) == [("paymentTerms", "invalid_enum_value")]
    assert await settings_of(api) == DEFAULTS  # still never saved: updatedAt null
    saved = await patched(api, {"vat": {"rate": 19}})
    response = await patch(api, {"vat": {"rate": 7}, "colour": "red"})
    assert problems(response) == [("colour", "unrecognized_keys")]
    response = await patch(api, {"vat": {"rate": 7}, "billingCycle": {"dayOfMonth": 3}})
    assert problems(response) == [("billingCycle.dayOfMonth", "custom")]
    assert await settings_of(api) == saved


async def test_what_get_shows_can_be_sent_back(api: Api) -> None:
    changed = await patched(
        api,
        {
            "lateFees": {"enabled": True, "amount": 5.5, "percentage": 1.25},
            "buyout": {"method": "remaining_months_plus_rrp", "rrpPercentage": 30},
            "idPrefixes": {"order": "ORD"},
        },
    )
    document = {k: v for k, v in changed.items() if k not in ("currency", "updatedAt")}
    again = await patched(api, document)
    assert without_updated_at(again) == without_updated_at(changed)


async def test_merge_patch_media_type_is_accepted(api: Api) -> None:
    response = await api.client.request(
        "PATCH",
        "/v1/settings",
        content=b'{"paymentTerms": "net_14"}',
        headers={**api.headers, "Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["settings"]["paymentTerms"] == "net_14"


async def test_live_and_test_environments_have_separate_settings(
    api: Api, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    test_api = Api(client, key=tenant.test_key, tenant_id=tenant.id)
    await patched(test_api, {"paymentTerms": "net_30"})
    assert (await settings_of(api)) == DEFAULTS
    await patched(api, {"paymentTerms": "net_7"})
    assert (await settings_of(test_api))["paymentTerms"] == "net_30"
    assert (await settings_of(api))["paymentTerms"] == "net_7"


async def test_other_business_units_are_not_affected(
    api: Api, client: httpx.AsyncClient, database: Database
) -> None:
    await patched(api, {"contractEnd": "require_action"})
    other = await new_tenant(database)
    assert await settings_of(Api(client, key=other.live_key, tenant_id=other.id)) == DEFAULTS


async def test_permissions(api: Api, database: Database, tenant: Tenant) -> None:
    customers = api.with_key(await issue_key(database, tenant, permissions=["customers:read"]))
    for response in (await customers.get("/v1/settings"), await patch(customers, {})):
        assert response.status_code == 403
        assert error_code(response) == "INSUFFICIENT_PERMISSIONS"
    reader = api.with_key(await issue_key(database, tenant, permissions=["settings:read"]))
    assert (await reader.get("/v1/settings")).status_code == 200
    response = await patch(reader, {"paymentTerms": "net_7"})
    assert response.status_code == 403
    assert error_code(response) == "INSUFFICIENT_PERMISSIONS"
    writer = api.with_key(await issue_key(database, tenant, permissions=["settings:write"]))
    assert (await patch(writer, {"paymentTerms": "net_7"})).status_code == 200
    assert (await settings_of(reader))["paymentTerms"] == "net_7"


async def test_unauthenticated_requests_are_refused(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.get("/v1/settings", headers={"Tenant-ID": tenant.id})
    assert response.status_code == 401
    assert error_code(response) == "AUTH_REQUIRED"


async def test_concurrent_patches_all_take_effect(api: Api) -> None:
    await patched(api, {"paymentTerms": "net_7"})  # the row exists: each patch locks it
    bodies = [
        {"vat": {"rate": 19}},
        {"paymentRetry": {"attempts": 5}},
        {"orders": {"idempotencyWindowMinutes": 30}},
        {"idPrefixes": {"asset": "AS"}},
    ]
    responses = await asyncio.gather(*(patch(api, body) for body in bodies))
    assert [r.status_code for r in responses] == [200] * len(bodies)
    settings = await settings_of(api)
    assert settings["vat"]["rate"] == 19
    assert settings["paymentRetry"]["attempts"] == 5
    assert settings["orders"]["idempotencyWindowMinutes"] == 30
    assert settings["idPrefixes"]["asset"] == "AS"
    assert settings["paymentTerms"] == "net_7"


async def test_concurrent_first_saves_all_take_effect(
    client: httpx.AsyncClient, database: Database
) -> None:
    unit = await new_tenant(database)
    fresh = Api(client, key=unit.live_key, tenant_id=unit.id)
    bodies = [{"vat": {"rate": 19}}, {"paymentTerms": "net_30"}, {"contractEnd": "require_action"}]
    responses = await asyncio.gather(*(patch(fresh, body) for body in bodies))
    assert [r.status_code for r in responses] == [200] * len(bodies)
    settings = await settings_of(fresh)
    assert (settings["vat"]["rate"], settings["paymentTerms"]) == (19, "net_30")
    assert settings["contractEnd"] == "require_action"


async def test_company_details_are_kept_for_documents(api: Api) -> None:
    company = {"name": "Rent-a-Laptop GmbH", "address": "Hauptstr. 1\n10115 Berlin"}
    settings = await patched(api, {"company": {**company, "vatId": "DE123456789"}})
    assert settings["company"] == {
        **company, "email": None, "phone": None, "vatId": "DE123456789",
        "registrationNumber": None,
    }  # fmt: skip
    assert (await settings_of(api))["company"]["vatId"] == "DE123456789"
    assert problems(await patch(api, {"company": {"name": "x" * 201}})) == [
        ("company.name", "too_big")
    ]
