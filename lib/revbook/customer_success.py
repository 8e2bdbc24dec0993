"""Customer success: retention, churn drivers, the health score, upsell signals and early alerts.

The panel (one row per paying account and observation date, features measured strictly before the
date, the outcome in the month from it) comes from the warehouse; the models are statsmodels fits on
it. Leakage guard: a feature never sees the month whose churn it explains.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.duration.hazard_regression import PHReg

from revbook import metrics
from revbook.settings import Company
from revbook.warehouse import Warehouse

#: Days before a date with no login that the panel can see (the last-login lookback is 91 days).
LOGIN_LOOKBACK_DAYS = 91
BANDS = ("red", "yellow", "green")


def panel(wh: Warehouse, at: list[dt.date], company: Company) -> pd.DataFrame:
    """The customer panel at the observation dates `at`, with the model features (see `features`)."""
    p = wh.mart("cs_panel", at=at, target_industries=list(company.target_industries))
    use = wh.mart("cs_feature_use", at=at)
    p["month"] = pd.to_datetime(p["month"])
    if not use.empty:
        use["month"] = pd.to_datetime(use["month"])
        wide = use.pivot_table(index=["month", "account_id"], columns="event_type", values="events",
                               aggfunc="sum", fill_value=0)
        wide.columns = [f"events:{c}" for c in wide.columns]
        p = p.merge(wide.reset_index(), on=["month", "account_id"], how="left")
    return features(p, company)


def _per(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    out = metrics.ratio(numerator, denominator.astype("float64"))
    assert isinstance(out, pd.Series)
    return out


def features(p: pd.DataFrame, company: Company) -> pd.DataFrame:
    """Model features from the panel's raw counts (added as columns; FEATURE_LABELS names them)."""
    p = p.copy()
    since = (p["month"] - pd.to_datetime(p["last_login"])).dt.days
    p["days_since_login"] = since.fillna(LOGIN_LOOKBACK_DAYS + 1)
    p["no_login"] = (p["days_since_login"] >= company.alerts.no_login_days).astype(float)
    p["error_rate"] = _per(p["errors_91d"], p["logins_91d"]).fillna(0.0)
    p["active_users"] = p["active_user_days_28d"] / 28
    p["usage_trend"] = (_per(p["logins_28d"], p["logins_prior_28d"]) - 1).clip(-1, 3).fillna(0.0)
    p["usage_change_7d"] = _per(p["logins_7d"], p["logins_prior_4w"] / 4) - 1
    user_days = p["active_user_days_28d"].clip(lower=1)
    for col in [c for c in p.columns if c.startswith("events:")]:
        p[f"use:{col.split(':', 1)[1]}"] = p[col].fillna(0) / user_days
    p["log_mrr"] = np.log(p["mrr"].astype(float))
    p["tenure_months"] = p["tenure_months"].astype(float)
    p["tickets"] = p["tickets_28d"].astype(float)
    p["open_high_priority"] = p["open_high_priority"].astype(float)
    p["target_industry"] = p["target_industry"].astype(float)
    return p


FEATURE_LABELS = {
    "no_login": "No login for the alert threshold (days)",
    "error_rate": "Error rate (errors ÷ logins, 91 days)",
    "active_users": "Daily active users (28-day average)",
    "usage_trend": "Usage trend (logins vs the 28 days before)",
    "tenure_months": "Tenure (months)",
    "log_mrr": "MRR (log)",
    "tickets": "Support tickets (28 days)",
    "open_high_priority": "Open high-priority tickets",
    "target_industry": "Target industry",
}


def feature_columns(p: pd.DataFrame) -> list[str]:
    """The drivers a model weighs: FEATURE_LABELS plus each feature's use per active-user day."""
    return [*FEATURE_LABELS, *sorted(c for c in p.columns if c.startswith("use:"))]


def label(feature: str) -> str:
    if feature.startswith("use:"):
        return f"{feature[4:]} use per active user"
    return FEATURE_LABELS[feature]


@dataclass(frozen=True)
class Drivers:
    """A fitted model of an outcome on standardized drivers: effects per standard deviation."""

    table: pd.DataFrame  # feature, label, odds_ratio, or_low, or_high, p_value (+ hazard_* for churn)
    coef: pd.Series  # log-odds per standard deviation, by feature
    mean: pd.Series
    std: pd.Series

    def z(self, frame: pd.DataFrame) -> pd.DataFrame:
        return (frame[self.coef.index] - self.mean) / self.std


def fit_logit(train: pd.DataFrame, outcome: str, cols: list[str]) -> Drivers:
    """Logistic regression of `outcome` on standardized `cols` (constant columns dropped): odds
    ratios per standard deviation with 95% confidence intervals."""
    x = train[cols].astype(float)
    std = x.std()
    keep = [c for c in cols if std[c] > 0]
    mean, std = x[keep].mean(), std[keep]
    z = (x[keep] - mean) / std
    fit = sm.Logit(train[outcome].astype(float), sm.add_constant(z)).fit(disp=0, maxiter=200)
    ci = fit.conf_int().loc[keep]
    table = pd.DataFrame({"feature": keep, "label": [label(c) for c in keep],
                          "odds_ratio": np.exp(fit.params[keep]).to_numpy(),
                          "or_low": np.exp(ci[0]).to_numpy(), "or_high": np.exp(ci[1]).to_numpy(),
                          "p_value": fit.pvalues[keep].to_numpy()})
    return Drivers(table, fit.params[keep], mean, std)


def cox_check(train: pd.DataFrame, drivers: Drivers) -> pd.DataFrame:
    """Cox proportional hazards of churn on the same standardized drivers, as time-varying covariates:
    each account-month is an interval (entry k−1, exit k, in months since the account's first
    observation) carrying that month's features. Hazard ratio per standard deviation, 95% interval."""
    ordered = train.sort_values(["account_id", "month"])
    k = (ordered.groupby("account_id").cumcount() + 1).to_numpy(dtype=float)
    z = drivers.z(ordered).to_numpy()
    fit = PHReg(k, z, status=ordered["churned"].astype(float).to_numpy(), entry=k - 1).fit()
    ci = np.exp(fit.conf_int())
    return pd.DataFrame({"feature": drivers.coef.index, "hazard_ratio": np.exp(fit.params),
                         "hr_low": ci[:, 0], "hr_high": ci[:, 1], "hr_p_value": fit.pvalues})


def verdict(row: pd.Series) -> str:
    """'reliable' when both models' 95% intervals exclude 1 on the same side, 'weak' when one does,
    else 'noise'."""
    logit = 1 if row["or_low"] > 1 else (-1 if row["or_high"] < 1 else 0)
    cox = 1 if row["hr_low"] > 1 else (-1 if row["hr_high"] < 1 else 0)
    if logit and logit == cox:
        return "reliable"
    return "weak" if logit or cox else "noise"


def churn_drivers(train: pd.DataFrame) -> tuple[Drivers, pd.DataFrame]:
    """The churn model and its table, ranked by effect size (|log odds ratio|), with the Cox check."""
    drivers = fit_logit(train, "churned", feature_columns(train))
    table = drivers.table.merge(cox_check(train, drivers), on="feature")
    table["verdict"] = table.apply(verdict, axis=1)
    table = table.reindex(np.log(table["odds_ratio"]).abs().sort_values(ascending=False).index)
    return drivers, table.reset_index(drop=True)


# ---------------------------------------------------------------- health score


@dataclass(frozen=True)
class HealthModel:
    """Score = 70 − scale × (churn log-odds from the drivers), clipped to 0-100; each driver's points
    are its share of that sum, so an account's score is explained factor by factor."""

    weights: pd.Series  # churn log-odds per standard deviation, by feature
    mean: pd.Series
    std: pd.Series
    scale: float

    @classmethod
    def from_drivers(cls, drivers: Drivers, train: pd.DataFrame, weights: dict[str, float] | None = None
                     ) -> HealthModel:
        w = pd.Series(weights, dtype=float) if weights else drivers.coef
        unknown = set(w.index) - set(drivers.mean.index)
        if unknown:
            raise ValueError(f"health.weights: unknown drivers {sorted(unknown)}; known: {sorted(drivers.mean.index)}")
        z = (train[w.index] - drivers.mean[w.index]) / drivers.std[w.index]
        spread = float((z * w).sum(axis=1).std()) or 1.0
        return cls(w, drivers.mean[w.index], drivers.std[w.index], 15.0 / spread)

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Points each driver adds (+) or takes away (−) from the base of 70."""
        z = (frame[self.weights.index] - self.mean) / self.std
        return -(z * self.weights) * self.scale

    def score(self, frame: pd.DataFrame) -> pd.Series:
        return (70 + self.contributions(frame).sum(axis=1)).clip(0, 100)


def band(score: pd.Series, company: Company) -> pd.Series:
    """red below health.red_below, green from health.green_from, yellow between."""
    h = company.health
    return pd.Series(np.select([score < h.red_below, score >= h.green_from], ["red", "green"], "yellow"),
                     index=score.index)


def holdout(p: pd.DataFrame, holdout_months: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test): the last `holdout_months` observation dates are held out."""
    dates = sorted(p["month"].unique())
    cut = dates[-holdout_months]
    return p[p["month"] < cut], p[p["month"] >= cut]


def separation(scores: pd.Series, churned: pd.Series, bands: pd.Series) -> tuple[float | None, pd.DataFrame]:
    """How well a score separates churners: AUC (of a low score for churn) and churn rate per band."""
    auc = metrics.auc(-scores, churned.astype(bool))
    g = pd.DataFrame({"band": bands, "churned": churned.astype(float)}).groupby("band")["churned"]
    per_band = pd.DataFrame({"accounts": g.size(), "churned": g.sum()}).reindex(list(BANDS), fill_value=0)
    per_band["churn_rate"] = metrics.ratio(per_band["churned"], per_band["accounts"].astype(float))
    return auc, per_band.rename_axis("band").reset_index()
