"""The words of the customer-success churn-drivers page (notebooks/customer_success/churn_drivers)."""

from __future__ import annotations

from revbook.departments.customer_success import Model


def sample_note(model: Model) -> str:
    """'' on every account, else a sentence saying the model was fitted on a sample."""
    if model.share >= 1:
        return ""
    return (f" Fitted on a fixed sample of {model.share:.0%} of the accounts "
            f"({len(model.train) + len(model.test):,} account-months), which keeps the fit quick and small.")
