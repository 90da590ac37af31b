"""Cost recovery of a rented device: how much of what it cost has come back. Pure, no I/O.

FlexPortal's definitions (seed reference §1.4, §1.5):

- cost recovery % = total collected / acquisition cost × 100
- breakeven months = acquisition cost / monthly price
- recovery status: ``profitable`` above 100 %; ``at_risk`` at 50 % or less once more than
  half of the contract has passed; ``recovering`` otherwise; ``no_data`` without a cost.

Percentages and months are rounded half up to two decimals; money stays in minor units.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

_HUNDREDTHS = Decimal("0.01")


class RecoveryStatus(StrEnum):
    PROFITABLE = "profitable"
    RECOVERING = "recovering"
    AT_RISK = "at_risk"
    NO_DATA = "no_data"


@dataclass(frozen=True)
class CostRecovery:
    total_collected: int
    cost_recovery_percent: Decimal | None
    current_profit: int | None
    breakeven_months: Decimal | None
    has_reached_breakeven: bool
    recovery_status: RecoveryStatus


def _ratio(numerator: int, denominator: int) -> Decimal:
    return (Decimal(numerator) / Decimal(denominator)).quantize(_HUNDREDTHS, ROUND_HALF_UP)


def cost_recovery(
    *,
    acquisition_cost: int | None,
    monthly_amount: int,
    total_collected: int,
    months_elapsed: int,
    contract_length: int,
) -> CostRecovery:
    """The cost-recovery figures of one subscription. ``months_elapsed`` counts the
    contract months begun so far, out of ``contract_length``."""
    breakeven = (
        _ratio(acquisition_cost, monthly_amount)
        if acquisition_cost and monthly_amount > 0
        else None
    )
    if not acquisition_cost:
        return CostRecovery(
            total_collected=total_collected, cost_recovery_percent=None, current_profit=None,
            breakeven_months=breakeven, has_reached_breakeven=False,
            recovery_status=RecoveryStatus.NO_DATA,
        )  # fmt: skip
    percent = _ratio(total_collected * 100, acquisition_cost)
    more_than_half_done = contract_length > 0 and months_elapsed * 2 > contract_length
    if percent > 100:
        status = RecoveryStatus.PROFITABLE
    elif percent <= 50 and more_than_half_done:
        status = RecoveryStatus.AT_RISK
    else:
        status = RecoveryStatus.RECOVERING
    return CostRecovery(
        total_collected=total_collected, cost_recovery_percent=percent,
        current_profit=total_collected - acquisition_cost, breakeven_months=breakeven,
        has_reached_breakeven=total_collected >= acquisition_cost, recovery_status=status,
    )  # fmt: skip
