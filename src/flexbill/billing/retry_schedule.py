"""When a failed payment is tried again, and when it has failed for good. Pure, no I/O.

The business unit's ``payment_retry`` settings say it (FlexPortal's "Automatic Retry"):
a due payment is tried once; with ``automatic`` retries, each failure is followed by
another try ``interval_days`` later, ``attempts`` times (1–5). So a payment is tried at
most ``1 + attempts`` times with automatic retries, and once without. The failure of the
last try is final: the dunning outcome (``final_outcome``) applies.

    automatic, attempts 3, interval 3 days; first try fails on 1 March 09:00
    → tries 2, 3 and 4 on 4, 7 and 10 March at 09:00; the 4th failing is final
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flexbill.settings.rules import PaymentRetry


@dataclass(frozen=True)
class RetryPolicy:
    automatic: bool
    attempts: int  # retries after the first try (1–5)
    interval_days: int

    @classmethod
    def of(cls, rules: PaymentRetry) -> RetryPolicy:
        return cls(
            automatic=rules.automatic, attempts=rules.attempts, interval_days=rules.interval_days
        )

    @property
    def total_attempts(self) -> int:
        """How many times a payment is tried at most."""
        return 1 + self.attempts if self.automatic else 1


def next_attempt_at(
    policy: RetryPolicy, attempts_made: int, failed_at: datetime
) -> datetime | None:
    """When to try again a payment whose try number ``attempts_made`` failed at
    ``failed_at``; ``None`` when that failure is final."""
    if attempts_made >= policy.total_attempts:
        return None
    return failed_at + timedelta(days=policy.interval_days)


def is_final(policy: RetryPolicy, attempts_made: int) -> bool:
    """Whether the failure of try number ``attempts_made`` is the last one."""
    return attempts_made >= policy.total_attempts
