"""The FlexLicense face, driven with the requests of seed 002's curl and JavaScript examples."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx

from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.licenses.rules import ProductType
from tests.licenses.support import license_row, mails_to, new_license, new_product
from tests.support import Tenant

T0 = datetime(2022, 7, 7, 13, 46, 46, 959000, tzinfo=UTC)


async def test_license_status_as_the_seed_example(
    client: httpx.AsyncClient, database: Database, tenant: Tenant
) -> None:
    with clock.frozen(T0):
        product = await new_product(database, tenant, ProductType.TIME_LIMITED)
        license_key = await new_license(database, product, balance=90)
        api_key = product.api_key
        fetch_url = f"/license-status?apikey={api_key}&licensekey={license_key}"
        response = await client.get(fetch_url)
    assert response.status_code == 200
    assert response.json() == {
        "msg": "License status returned",
        "balance": 90,
        "type": "Time limited",
        "unit": "days",
        "product": "Your Product",
        "valid": True,
        "verified": True,
        "isTest": False,
        "expires": "2022-10-05T13:46:46.959Z",
    }
    with clock.frozen(T0 + timedelta(days=91)):
        later = await client.get(fetch_url)
    assert later.json()["valid"] is False
    trial_key = await new_license(database, product, balance=14, verified=False)
    trial = await client.get(f"/license-status?apikey={api_key}&licensekey={trial_key}")
    assert "expires" not in trial.json()
    assert (trial.json()["balance"], trial.json()["valid"]) == (14, False)


async def test_withdraw_client_as_the_seed_example(
    client: httpx.AsyncClient, database: Database, tenant: Tenant
) -> None:
    product = await new_product(database, tenant, ProductType.INNER_CREDIT, unit="creditz")
    license_key = await new_license(database, product, balance=25)
    amount = 10
    fetch_url = (
        f"/withdraw-client?apikey={product.api_key}&licensekey={license_key}&amount={amount}"
    )
    response = await client.get(fetch_url)
    assert response.status_code == 200
    assert response.json() == {
        "msg": "Client debited", "product": "Your Product", "unit": "creditz", "amount": 10,
    }  # fmt: skip
    assert (await client.get(fetch_url)).status_code == 200
    refused = await client.get(fetch_url)
    assert refused.status_code == 402
    assert refused.json() == {"msg": "Insufficient balance: 5 creditz left"}
    status = await client.get(f"/license-status?apikey={product.api_key}&licensekey={license_key}")
    assert status.json()["balance"] == 5
    assert "expires" not in status.json()


async def test_currency_withdrawal_converts_and_charges_the_rate(
    client: httpx.AsyncClient, database: Database, tenant: Tenant
) -> None:
    product = await new_product(
        database, tenant, ProductType.CURRENCY, unit="EUR", rate_percent=Decimal("2.5"),
        min_charge=50, exchange_rates={"USD": Decimal("0.9")},
    )  # fmt: skip
    license_key = await new_license(database, product, balance=10_000)
    base = f"/withdraw-client?apikey={product.api_key}&licensekey={license_key}"
    in_dollars = await client.get(f"{base}&amount=10&currency=USD")
    assert in_dollars.json() == {
        "msg": "Client debited", "product": "Your Product", "unit": "EUR", "amount": 9.23,
    }  # fmt: skip
    assert (await client.get(f"{base}&amount=0.10")).json()["amount"] == 0.5
    status = await client.get(f"/license-status?apikey={product.api_key}&licensekey={license_key}")
    assert status.json()["balance"] == 90.27
    assert (await license_row(database, license_key)).balance == 9027
    too_precise = await client.get(f"{base}&amount=abc")
    assert (too_precise.status_code, too_precise.json()) == (
        400, {"msg": "Amount must be a positive number"},
    )  # fmt: skip
    no_rate = await client.get(f"{base}&amount=1&currency=CAD")
    assert no_rate.json() == {"msg": "No exchange rate from CAD to EUR is set"}


async def test_errors_say_what_is_wrong(
    client: httpx.AsyncClient, database: Database, tenant: Tenant
) -> None:
    timed = await new_product(database, tenant, ProductType.TIME_LIMITED)
    key = await new_license(database, timed, balance=30)
    custom = await new_product(database, tenant, ProductType.CUSTOM)
    cases = [
        (f"/license-status?apikey=35766010-fe7f-4858-b7c3-d1e0a07cb4b8&licensekey={key}", 401,
         "Unknown or revoked API key"),
        (f"/license-status?apikey={timed.api_key}&licensekey=46624afe-726c-458c-bd30-88b99b801ba2",
         404, "Unknown license key '46624afe-726c-458c-bd30-88b99b801ba2'"),
        (f"/withdraw-client?apikey={timed.api_key}&licensekey={key}&amount=1", 400,
         "Product type 'Time limited' has no balance to withdraw from; only 'Inner credit' "
         "and 'Currency' products do"),
        (f"/license-status?licensekey={key}", 400, "Missing query parameter 'apikey'"),
        (f"/create-client?apikey={timed.api_key}&email=a@example.com", 400,
         "This product offers no free trial"),
        (f"/license-status?apikey={custom.api_key}&licensekey={key}", 400,
         "Product type 'Custom' has no license keys to check"),
        (f"/withdraw-client?apikey={timed.api_key}&amount=1", 400,
         "Missing query parameter 'licensekey'"),
    ]  # fmt: skip
    for url, status, message in cases:
        response = await client.get(url)
        assert (response.status_code, response.json()) == (status, {"msg": message}), url
    wrong_method = await client.post("/license-status")
    assert wrong_method.status_code == 405
    assert wrong_method.json() == {"msg": "POST is not allowed on /license-status"}
    assert "x-ratelimit-limit" not in wrong_method.headers


async def test_create_client_sends_a_link_that_verifies_the_trial(
    client: httpx.AsyncClient,
    database: Database,
    tenant: Tenant,
    configure: Callable[..., None],
) -> None:
    configure(public_url="http://testserver")
    product = await new_product(database, tenant, ProductType.INNER_CREDIT, free_trial=20)
    api_key = product.api_key
    email = "trialuser@test.com"
    response = await client.get(f"/create-client?apikey={api_key}&email={email}")
    assert response.status_code == 200
    new_license = response.json()
    assert new_license["msg"] == "New license key returned"
    client_key = new_license["key"]
    status_url = f"/license-status?apikey={api_key}&licensekey={client_key}"
    before = (await client.get(status_url)).json()
    assert (before["balance"], before["verified"], before["valid"]) == (20, False, False)
    refused = await client.get(
        f"/withdraw-client?apikey={api_key}&licensekey={client_key}&amount=1"
    )
    assert refused.status_code == 403
    [mail] = await mails_to(database, email)
    assert mail.template == "trial_validation"
    link = re.search(r"http://testserver/license-validation\?token=\S+", mail.text_body)
    assert link is not None
    followed = await client.get(link.group(0))
    assert followed.json() == {"msg": "Your license of Your Product is verified"}
    after = (await client.get(status_url)).json()
    assert (after["balance"], after["verified"], after["valid"]) == (20, True, True)
    again = await client.get(link.group(0))
    assert again.status_code == 404


async def test_concurrent_withdrawals_never_overdraw(
    client: httpx.AsyncClient, database: Database, tenant: Tenant
) -> None:
    product = await new_product(database, tenant, ProductType.INNER_CREDIT)
    license_key = await new_license(database, product, balance=35)
    url = f"/withdraw-client?apikey={product.api_key}&licensekey={license_key}&amount=10"
    responses = await asyncio.gather(*(client.get(url) for _ in range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 200, 402, 402, 402, 402, 402]
    assert (await license_row(database, license_key)).balance == 5
