"""Cost recovery figures (pure), as FlexPortal defines them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flexbill.subscriptions.cost_recovery import RecoveryStatus, cost_recovery

R = RecoveryStatus


@pytest.mark.parametrize(
    (
        "cost",
        "monthly",
        "collected",
        "elapsed",
        "length",
        "percent",
        "profit",
        "breakeven",
        "status",
    ),
    [
        # No acquisition cost: no recovery figures, only the breakeven that needs none.
        (None, 5000, 10000, 3, 12, None, None, None, R.NO_DATA),
        (0, 5000, 10000, 3, 12, None, None, None, R.NO_DATA),
        # 1,200.00 at 100.00 a month: 12 months to break even.
        (120000, 10000, 0, 1, 24, Decimal("0.00"), -120000, Decimal("12.00"), R.RECOVERING),
        (120000, 10000, 60000, 6, 24, Decimal("50.00"), -60000, Decimal("12.00"), R.RECOVERING),
        (120000, 10000, 120000, 12, 24, Decimal("100.00"), 0, Decimal("12.00"), R.RECOVERING),
        (120000, 10000, 130000, 13, 24, Decimal("108.33"), 10000, Decimal("12.00"), R.PROFITABLE),
        # At or below 50 % with more than half of the contract gone: at risk.
        (120000, 1000, 60000, 13, 24, Decimal("50.00"), -60000, Decimal("120.00"), R.AT_RISK),
        (120000, 1000, 60000, 12, 24, Decimal("50.00"), -60000, Decimal("120.00"), R.RECOVERING),
        (120000, 1000, 60100, 13, 24, Decimal("50.08"), -59900, Decimal("120.00"), R.RECOVERING),
        # Rounded half up to two decimals: 1 / 3 and 2 / 3.
        (30000, 9000, 10000, 1, 12, Decimal("33.33"), -20000, Decimal("3.33"), R.RECOVERING),
        (30000, 4500, 20000, 1, 12, Decimal("66.67"), -10000, Decimal("6.67"), R.RECOVERING),
        # A free month (monthly 0) has no breakeven.
        (30000, 0, 0, 1, 12, Decimal("0.00"), -30000, None, R.RECOVERING),
    ],
)
def test_cost_recovery(
    cost: int | None,
    monthly: int,
    collected: int,
    elapsed: int,
    length: int,
    percent: Decimal | None,
    profit: int | None,
    breakeven: Decimal | None,
    status: RecoveryStatus,
) -> None:
    figures = cost_recovery(
        acquisition_cost=cost,
        monthly_amount=monthly,
        total_collected=collected,
        months_elapsed=elapsed,
        contract_length=length,
    )
    assert figures.total_collected == collected
    assert figures.cost_recovery_percent == percent
    assert figures.current_profit == profit
    assert figures.breakeven_months == breakeven
    assert figures.recovery_status is status
    assert figures.has_reached_breakeven == (bool(cost) and collected >= (cost or 0))
