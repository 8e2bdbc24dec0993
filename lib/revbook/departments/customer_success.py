"""Customer success: retention, churn drivers, the health score, upsell signals and early alerts.

The panel (one row per paying account and observation date, features measured strictly before the
date, the outcome in the month from it) comes from the warehouse; the models are statsmodels fits on
it. Leakage guard: a feature never sees the month whose churn it explains.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Set
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.duration.hazard_regression import PHReg

from revbook import metrics, settings
from revbook.data.warehouse import Warehouse
from revbook.departments import sales_ops, targets
from revbook.departments.headlines import Headline, HeadlineSpec, compare
from revbook.periods import Period
from revbook.settings import Company

#: Days before a date with no login that the panel can see (the last-login lookback is 91 days).
LOGIN_LOOKBACK_DAYS = 91
BANDS = ("red", "yellow", "green")
#: Health score: BASE_SCORE for the average account-month of the training months (its churn log-odds
#: from the drivers). The band cut-offs are fixed multiples of that account's churn odds: health.red_below
#: is RED_ODDS times them, health.green_from GREEN_ODDS times. Between and beyond, the score is a
#: logistic of the log-odds (one slope on the risky side, one on the safe side), so scores spread over
#: 0-100 and never pile up at a floor however far the riskiest accounts are from the average.
BASE_SCORE = 50.0
RED_ODDS = 2.0
GREEN_ODDS = 0.75
#: The churn model's observation months (the last ones held out to judge the score).
MODEL_MONTHS = 18
HOLDOUT_MONTHS = 3
MIN_TRAIN_MONTHS = 6
MIN_TRAIN_CHURNS = 10
MODEL_MAX_ROWS = 150_000  # account-months the churn model is fitted on, at most (see model_panel)

HEADLINES: tuple[HeadlineSpec, ...] = (
    ("customer_churn_rate", "Customer churn rate", "pct", False),
    ("net_revenue_churn_rate", "Net revenue churn rate", "pct", False),
    ("grr", "GRR (monthly)", "pct", True),
    ("nrr", "NRR (monthly)", "pct", True),
    ("grr_t12m", "GRR (trailing 12 months)", "pct", True),
    ("nrr_t12m", "NRR (trailing 12 months)", "pct", True),
    ("onboarding_completion_rate", "Onboarding completion rate", "pct", True),
    ("upsell_rate", "Upsell / cross-sell rate", "pct", True),
    ("ltv", "LTV (ARPA × gross margin ÷ 12-month average churn)", "money", True),
)


class ModelError(ValueError):
    """The data cannot support the churn model (too little history, too few churns)."""


# ---------------------------------------------------------------- monthly retention numbers


def month_values(wh: Warehouse, period: Period, company: Company) -> dict[str, float | None]:
    """Every headline metric for the month `period` (definitions in revbook.metrics)."""
    row = sales_ops.movements(wh, [period.start], company).iloc[0]
    start, end = metrics.onboarding_cohort(period.start, period.end)
    onboarding = wh.mart("cs_onboarding", start=start, end=end)
    completed = int((onboarding["login_days_30d"] >= company.health.onboarding_login_days).sum())
    values = {key: row[key] for key in ("customer_churn_rate", "net_revenue_churn_rate", "grr", "nrr", "grr_t12m",
                                        "nrr_t12m")}
    values["onboarding_completion_rate"] = (metrics.onboarding_completion_rate(completed, len(onboarding))
                                            if wh.has("product_usage_daily") else None)  # no logins known
    values["upsell_rate"] = metrics.upsell_rate(row["expanded_customers"], row["customers_start"])
    values["ltv"] = sales_ops.economics(wh, period, company.gross_margin).ltv
    return {key: None if value is None or pd.isna(value) else float(value) for key, value in values.items()}


def headlines(wh: Warehouse, period: Period, company: Company) -> list[Headline]:
    """The month against the previous month and the customer_success plan."""
    plan = targets.for_month(targets.monthly(wh, "customer_success", [period.start]), period.start)
    return compare(HEADLINES, month_values(wh, period, company), month_values(wh, period.previous(), company), plan)


def retention_by(wh: Warehouse, period: Period, months: int = 12, company: Company | None = None) -> pd.DataFrame:
    """Monthly customer churn rate, GRR and NRR per plan, industry and region (`dimension`, `value`;
    only what the accounts table holds), pooled over the `months` months to `period`, each
    account-month under the plan it paid for at the month start: which contract type churns."""
    f = wh.mart("cs_retention_by", months=[p.start for p in period.trailing(months)],
                **sales_ops.conventions(company or settings.company()))
    f["customer_churn_rate"] = metrics.customer_churn_rate(f["churned_customers"], f["customers_start"])
    f["grr"] = metrics.gross_revenue_retention(f["churned_mrr"], f["contraction_mrr"], f["starting_mrr"])
    f["nrr"] = metrics.net_revenue_retention(f["churned_mrr"], f["contraction_mrr"], f["expansion_mrr"],
                                             f["starting_mrr"])
    return f.sort_values(["customer_churn_rate", "value"], ascending=[False, True], ignore_index=True)


def retention_table(by: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """`retention_by`'s rows of one dimension, the value in a column named by the dimension (plan,
    industry, region), highest churn first."""
    rows = by[by["dimension"] == dimension].rename(columns={"value": dimension})
    return rows[[dimension, "customers_start", "churned_customers", "customer_churn_rate", "grr", "nrr"]].reset_index(
        drop=True)


def monthly_retention(wh: Warehouse, period: Period, months: int = 12, company: Company | None = None) -> pd.DataFrame:
    """month, customer_churn_rate, grr and nrr (monthly rates) for each of the `months` months to `period`."""
    f = sales_ops.movements(wh, [p.start for p in period.trailing(months)], company)
    f["month"] = pd.to_datetime(f["month"]).dt.strftime("%Y-%m")
    return f[["month", "customer_churn_rate", "grr", "nrr"]].reset_index(drop=True)


def cohorts(wh: Warehouse, period: Period, months: int = 12, company: Company | None = None) -> pd.DataFrame:
    """Logo and revenue retention of the start-month cohorts of the last `months` months, by age
    (months since the cohort month; 0 is the cohort month itself)."""
    f = wh.mart("cs_cohorts", months=[m.start for m in period.trailing(months)],
                **sales_ops.conventions(company or settings.company()))
    cohort, month = pd.to_datetime(f["cohort"]), pd.to_datetime(f["month"])
    f["age"] = (month.dt.year - cohort.dt.year) * 12 + month.dt.month - cohort.dt.month
    f["cohort"] = cohort.dt.strftime("%Y-%m")
    f["logo_retention"] = metrics.cohort_retention(f["accounts"], f["cohort_accounts"].astype(float))
    f["revenue_retention"] = metrics.cohort_retention(f["mrr"], f["cohort_mrr"].astype(float))
    return f


def cohort_matrix(cohorts: pd.DataFrame, column: str) -> pd.DataFrame:
    """One retention column of `cohorts` as cohort (rows) × age (columns)."""
    return cohorts.pivot(index="cohort", columns="age", values=column)


def tickets(wh: Warehouse, period: Period, months: int = 12) -> pd.DataFrame:
    """Support tickets created per month of the last `months` months, by category and priority."""
    f = wh.mart("cs_tickets", months=[m.start for m in period.trailing(months)])
    f["month"] = pd.to_datetime(f["month"]).dt.strftime("%Y-%m")
    return f


def tickets_by_month(tickets: pd.DataFrame) -> pd.DataFrame:
    """Tickets created per month (rows, a `month` column) by category (columns)."""
    wide = tickets.pivot_table(index="month", columns="category", values="tickets", aggfunc="sum", fill_value=0)
    return wide.rename_axis(columns=None).reset_index()


# ---------------------------------------------------------------- the panel and its features


def usage_span(wh: Warehouse) -> tuple[dt.date, dt.date]:
    """The first and last day of product usage data."""
    span = wh.mart("usage_span").iloc[0]
    if not span["usage_rows"]:
        raise ModelError("product_usage_daily is empty: customer-success reports need product usage")
    return pd.Timestamp(span["first_day"]).date(), pd.Timestamp(span["last_day"]).date()


def panel(wh: Warehouse, at: list[dt.date], company: Company) -> pd.DataFrame:
    """The customer panel at the observation dates `at`, with the model features (see `features`)."""
    return features(_counts(wh, at, company), company)


def _counts(wh: Warehouse, at: list[dt.date], company: Company) -> pd.DataFrame:
    """The panel's marts: usage, contract and support counts, and each feature's events."""
    p = wh.mart("cs_panel", at=at, target_industries=list(company.target_industries), **sales_ops.conventions(company))
    use = wh.mart("cs_feature_use", at=at)
    p["month"] = pd.to_datetime(p["month"])
    if not use.empty:
        use["month"] = pd.to_datetime(use["month"])
        wide = use.pivot_table(index=["month", "account_id"], columns="event_type", values="events",
                               aggfunc="sum", fill_value=0)
        wide.columns = [f"events:{c}" for c in wide.columns]
        p = p.merge(wide.reset_index(), on=["month", "account_id"], how="left")
    return p


def model_panel(wh: Warehouse, at: list[dt.date], company: Company) -> tuple[pd.DataFrame, float]:
    """The panel at the model's observation dates and the share of accounts in it. Beyond
    MODEL_MAX_ROWS account-months it holds a fixed sample of the accounts (the same in every month,
    picked by a hash of the id, so every run and engine picks the same), fetched a month at a time:
    a kernel's memory and the fit's time stay flat however large the customer base grows."""
    expected = int(wh.mart("cs_paying", at=at[-1], **sales_ops.conventions(company))["accounts"].iloc[0]) * len(at)
    if expected <= MODEL_MAX_ROWS:
        return panel(wh, at, company), 1.0
    share = MODEL_MAX_ROWS / expected

    def sampled(month: pd.DataFrame) -> pd.DataFrame:
        return month[month["account_id"].map(lambda a: zlib.crc32(a.encode()) < share * 2**32)]

    return features(pd.concat([sampled(_counts(wh, [m], company)) for m in at], ignore_index=True), company), share


def _per(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    out = metrics.ratio(numerator, denominator.astype("float64"))
    assert isinstance(out, pd.Series)
    return out


def features(p: pd.DataFrame, company: Company) -> pd.DataFrame:
    """Model features from the panel's raw counts (added as columns; FEATURE_LABELS names them)."""
    p = p.copy()
    # days from the last login to the last day observed (the day before the observation date)
    since = (p["month"] - pd.Timedelta(days=1) - pd.to_datetime(p["last_login"])).dt.days
    p["days_since_login"] = since.fillna(LOGIN_LOOKBACK_DAYS + 1)
    p["no_login"] = (p["days_since_login"] >= company.alerts.no_login_days).astype(float)
    p["error_rate"] = _per(p["errors_91d"], p["logins_91d"])
    p["active_users"] = p["active_user_days_28d"] / 28
    p["usage_trend"] = (_per(p["logins_28d"], p["logins_prior_28d"]) - 1).clip(-1, 3).fillna(0.0)
    p["usage_change_7d"] = _per(p["logins_7d"], p["logins_prior_4w"] / 4) - 1
    for col in [c for c in p.columns if c.startswith("events:")]:
        p[f"use:{col.split(':', 1)[1]}"] = _per(p[col].fillna(0), p["active_user_days_28d"])
    p["log_mrr"] = np.log(p["mrr"].astype(float))
    p["tenure_months"] = p["tenure_months"].astype(float)
    p["tickets"] = p["tickets_28d"].astype(float)
    p["open_high_priority"] = p["open_high_priority"].astype(float)
    p["target_industry"] = p["target_industry"].astype(float)
    return p


FEATURE_LABELS = {
    "no_login": "No login for alerts.no_login_days or more",
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
    """A driver's name for readers (the no-login threshold from params)."""
    if feature.startswith("use:"):
        return f"{feature[4:]} use per active user"
    if feature == "no_login":
        return f"No login for {settings.company().alerts.no_login_days}+ days"
    return FEATURE_LABELS[feature]


#: Standardized drivers are capped at this many standard deviations, so one extreme value (a ratio
#: over a handful of active users) cannot dominate a fit or a score.
Z_CAP = 3.0


def standardize(x: pd.DataFrame, mean: pd.Series, std: pd.Series) -> pd.DataFrame:
    """Drivers in standard deviations from the mean, capped at ±Z_CAP; a driver that cannot be
    measured (no logins, no active users) is 0, average, so it is neither blamed nor credited."""
    return ((x - mean) / std).clip(-Z_CAP, Z_CAP).fillna(0.0)


@dataclass(frozen=True)
class Drivers:
    """A fitted model of an outcome on standardized drivers: effects per standard deviation."""

    table: pd.DataFrame  # feature, label, odds_ratio, or_low, or_high, p_value (+ hazard_* for churn)
    coef: pd.Series  # log-odds per standard deviation, by feature
    mean: pd.Series
    std: pd.Series

    def z(self, frame: pd.DataFrame) -> pd.DataFrame:
        return standardize(frame[self.coef.index], self.mean, self.std)


#: The chance, over all drivers of a model together, that any interval misses its true effect.
#: Each driver's interval is at 1 − FAMILY_ALPHA ÷ (drivers tested) (Bonferroni): with a dozen
#: drivers, plain 95% intervals would call about one in two months' fits "clear" for some driver
#: with no effect at all.
FAMILY_ALPHA = 0.05


def interval_alpha(drivers: int) -> float:
    """The alpha of each driver's interval when `drivers` are tested together."""
    return FAMILY_ALPHA / max(drivers, 1)


def fit_logit(train: pd.DataFrame, outcome: str, cols: list[str]) -> Drivers:
    """Logistic regression of `outcome` on standardized `cols` (constant columns dropped): odds
    ratios per standard deviation with familywise 95% intervals (FAMILY_ALPHA)."""
    x = train[cols].astype(float)
    std = x.std()
    keep = [c for c in cols if std[c] > 0]
    mean, std = x[keep].mean(), std[keep]
    z = standardize(x[keep], mean, std)
    fit = sm.Logit(train[outcome].astype(float), sm.add_constant(z)).fit(disp=0, maxiter=200)
    ci = fit.conf_int(alpha=interval_alpha(len(keep))).loc[keep]
    table = pd.DataFrame({"feature": keep, "label": [label(c) for c in keep],
                          "odds_ratio": np.exp(fit.params[keep]).to_numpy(),
                          "or_low": np.exp(ci[0]).to_numpy(), "or_high": np.exp(ci[1]).to_numpy(),
                          "p_value": fit.pvalues[keep].to_numpy()})
    return Drivers(table, fit.params[keep], mean, std)


def cox_check(train: pd.DataFrame, drivers: Drivers) -> pd.DataFrame:
    """Cox proportional hazards of churn on the same standardized drivers, as time-varying covariates:
    each account-month is an interval (entry k−1, exit k, in months since the account's first
    observation) carrying that month's features. Hazard ratio per standard deviation, familywise
    95% interval (FAMILY_ALPHA)."""
    ordered = train.sort_values(["account_id", "month"])
    k = (ordered.groupby("account_id").cumcount() + 1).to_numpy(dtype=float)
    z = drivers.z(ordered).to_numpy()
    fit = PHReg(k, z, status=ordered["churned"].astype(float).to_numpy(), entry=k - 1).fit()
    ci = np.exp(fit.conf_int(alpha=interval_alpha(len(drivers.coef))))
    return pd.DataFrame({"feature": drivers.coef.index, "hazard_ratio": np.exp(fit.params),
                         "hr_low": ci[:, 0], "hr_high": ci[:, 1], "hr_p_value": fit.pvalues})


def verdict(row: pd.Series) -> str:
    """'reliable' when both models' familywise intervals exclude 1 on the same side, 'weak' when one
    does, else 'noise'."""
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


def _logit(share: float) -> float:
    return float(np.log(share / (1 - share)))


@dataclass(frozen=True)
class HealthModel:
    """Score = 100 × logistic(−slope × (churn log-odds from the drivers − the training average)), with
    `risky` as the slope above the average and `safe` below it (see BASE_SCORE). Each driver's points
    are its share of the account's log-odds from the average, times the points per log-odds unit that
    take the account from BASE_SCORE to its score, so the points add up to score − BASE_SCORE and an
    account's score is explained factor by factor."""

    weights: pd.Series  # churn log-odds per standard deviation, by feature
    mean: pd.Series
    std: pd.Series
    average: pd.Series  # each driver's mean log-odds (z × weight) over the training months
    risky: float  # slope (score logits per churn log-odds unit) above the average
    safe: float  # and below it

    @classmethod
    def from_drivers(cls, drivers: Drivers, train: pd.DataFrame, weights: dict[str, float] | None = None,
                     red_below: float = 40, green_from: float = 70) -> HealthModel:
        w = pd.Series(weights, dtype=float) if weights else drivers.coef
        unknown = set(w.index) - set(drivers.mean.index)
        if unknown:
            raise ValueError(f"health.weights: unknown drivers {sorted(unknown)}; known: {sorted(drivers.mean.index)}")
        if not red_below < BASE_SCORE < green_from:
            raise ValueError(f"health.red_below ({red_below}) must be below {BASE_SCORE:.0f}, the average account's "
                             f"score, and health.green_from ({green_from}) above it")
        z = standardize(train[w.index].astype(float), drivers.mean[w.index], drivers.std[w.index])
        return cls(w, drivers.mean[w.index], drivers.std[w.index], (z * w).mean(),
                   _logit(1 - red_below / 100) / np.log(RED_ODDS), _logit(green_from / 100) / -np.log(GREEN_ODDS))

    def _log_odds(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Each driver's churn log-odds against the training average's, by account."""
        return standardize(frame[self.weights.index].astype(float), self.mean, self.std) * self.weights - self.average

    def _from_log_odds(self, risk: pd.Series) -> pd.Series:
        slope = np.where(risk > 0, self.risky, self.safe)
        return pd.Series(100 / (1 + np.exp(slope * risk)), index=risk.index)

    def score(self, frame: pd.DataFrame) -> pd.Series:
        return self._from_log_odds(self._log_odds(frame).sum(axis=1))

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Points each driver adds (+) or takes away (−) from BASE_SCORE; they sum to score − BASE_SCORE."""
        parts = self._log_odds(frame)
        risk = parts.sum(axis=1)
        near = risk.abs() < 1e-9  # at the average itself: the slope there
        per_unit = ((self._from_log_odds(risk) - BASE_SCORE) / risk.where(~near, 1.0)).where(~near, -25 * self.safe)
        return parts.mul(per_unit, axis=0)

    def points_per_sd(self) -> pd.DataFrame:
        """feature, odds_ratio (churn odds per standard deviation more) and points: what one standard
        deviation more of the driver does to the score of an average account; largest first."""
        one_sd = self._from_log_odds(self.weights) - BASE_SCORE
        table = pd.DataFrame({"feature": self.weights.index, "odds_ratio": np.exp(self.weights.to_numpy()),
                              "points": one_sd.to_numpy()})
        return table.reindex(table["points"].abs().sort_values(ascending=False).index).reset_index(drop=True)

    def reasons(self, frame: pd.DataFrame, n: int = 3) -> pd.Series:
        """Each account's `n` drivers that cost it the most points, e.g. "No login … −18"."""
        points = self.contributions(frame)
        if points.empty:
            return pd.Series("", index=frame.index, dtype=object)
        names = [label(k) for k in points.columns]
        values = points.to_numpy()
        lows = np.where(values < -0.5, values, np.inf)
        worst = np.argsort(lows, axis=1, kind="stable")[:, :n]  # most points lost first, ties in column order
        return pd.Series(["; ".join(f"{names[k]} −{abs(v[k]):.0f}" for k in ks if v[k] < -0.5) or "none"
                          for v, ks in zip(values, worst, strict=True)], index=points.index)


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


@dataclass(frozen=True)
class Model:
    """The churn drivers fitted on the training months, the health score built on them, and the
    later hold-out months the score is judged on."""

    train: pd.DataFrame
    test: pd.DataFrame
    drivers: Drivers
    table: pd.DataFrame  # churn_drivers' ranked table
    health: HealthModel
    share: float = 1.0  # of the accounts: below 1 on a large customer base (see model_panel)

    def holdout_separation(self, company: Company) -> tuple[float, pd.DataFrame]:
        """The score's AUC and churn per band on the hold-out months (which have churns and stays)."""
        score = self.health.score(self.test)
        auc, per_band = separation(score, self.test["churned"], band(score, company))
        assert auc is not None
        return auc, per_band


def observation_months(wh: Warehouse, period: Period, months: int = MODEL_MONTHS) -> list[dt.date]:
    """Month starts for the churn model: the last `months` ending with `period` (whose churn is then
    known), leaving out those with less than LOGIN_LOOKBACK_DAYS of usage data before them."""
    earliest = usage_span(wh)[0] + dt.timedelta(days=LOGIN_LOOKBACK_DAYS)
    return [m.start for m in period.trailing(months) if m.start >= earliest]


def fit(wh: Warehouse, period: Period, company: Company, months: int = MODEL_MONTHS) -> Model:
    """Fit the churn drivers and the health score on the months to `period`, holding out the last
    HOLDOUT_MONTHS. Raises ModelError when the data is too thin to fit."""
    at = observation_months(wh, period, months)
    if len(at) < HOLDOUT_MONTHS + MIN_TRAIN_MONTHS:
        raise ModelError(f"the churn model needs {HOLDOUT_MONTHS + MIN_TRAIN_MONTHS} months with "
                         f"{LOGIN_LOOKBACK_DAYS} days of product usage before them up to {period.label}; "
                         f"the data has {len(at)}")
    observed, share = model_panel(wh, at, company)
    paying_months = observed["month"].nunique()
    if paying_months < HOLDOUT_MONTHS + MIN_TRAIN_MONTHS:
        raise ModelError(f"the churn model needs {HOLDOUT_MONTHS + MIN_TRAIN_MONTHS} months with paying accounts "
                         f"(subscriptions of accounts in the accounts table) and their usage; the data has "
                         f"{paying_months}")
    train, test = holdout(observed, HOLDOUT_MONTHS)
    churns = int(train["churned"].sum())
    if churns < MIN_TRAIN_CHURNS:
        raise ModelError(f"the churn model needs {MIN_TRAIN_CHURNS} churns in its training months; "
                         f"the data has {churns}")
    if test["churned"].nunique() < 2:
        raise ModelError("the hold-out months need both churns and stays to judge the health score by")
    drivers, table = churn_drivers(train)
    health = HealthModel.from_drivers(drivers, train, company.health.weights, company.health.red_below,
                                    company.health.green_from)
    return Model(train, test, drivers, table, health, share)


def scored(wh: Warehouse, at: dt.date, company: Company, model: Model | None) -> pd.DataFrame:
    """The accounts paying on the day before `at` with their features, CS owner and, given a model,
    health score, band and the drivers that cost them most."""
    now = panel(wh, [at], company).merge(wh.mart("cs_owners"), on="account_id", how="left")
    now["owner_name"] = now["owner_name"].fillna("unassigned")
    if model is not None:
        now["score"] = model.health.score(now)
        now["band"] = band(now["score"], company)
        now["reasons"] = model.health.reasons(now)
    return now


def separation(scores: pd.Series, churned: pd.Series, bands: pd.Series) -> tuple[float | None, pd.DataFrame]:
    """How well a score separates churners: AUC (of a low score for churn) and churn rate per band."""
    auc = metrics.auc(-scores, churned.astype(bool))
    g = pd.DataFrame({"band": bands, "churned": churned.astype(float)}).groupby("band")["churned"]
    per_band = pd.DataFrame({"accounts": g.size(), "churned": g.sum()}).reindex(list(BANDS), fill_value=0)
    per_band["churn_rate"] = metrics.ratio(per_band["churned"], per_band["accounts"].astype(float))
    return auc, per_band.rename_axis("band").reset_index()


def band_summary(now: pd.DataFrame) -> pd.DataFrame:
    """band, accounts and their MRR, red to green (a band without accounts shows 0)."""
    g = now.groupby("band").agg(accounts=("account_id", "size"), mrr=("mrr", "sum"))
    return g.reindex(list(BANDS), fill_value=0).rename_axis("band").reset_index()


def support_by_band(now: pd.DataFrame) -> pd.DataFrame:
    """band, accounts, tickets_per_100 (created in the 28 days before) and open_high_priority_per_100
    accounts: the support load behind each health band."""
    g = now.groupby("band").agg(accounts=("account_id", "size"), tickets_per_100=("tickets", "mean"),
                                open_high_priority_per_100=("open_high_priority", "mean")).reindex(list(BANDS))
    g[["tickets_per_100", "open_high_priority_per_100"]] *= 100
    return g.rename_axis("band").reset_index()


# ---------------------------------------------------------------- upsell


@dataclass(frozen=True)
class Upsell:
    """What precedes expansion: the expansion model's drivers, the strongest usage driver, and the
    expansion rate by fifth of that usage (the top fifth's floor marks look-alikes of past upsells)."""

    table: pd.DataFrame  # fit_logit table for "expanded", strongest first
    feature: str | None  # the usage feature most raising expansion (familywise interval above 1), if any
    by_fifth: pd.DataFrame  # fifth (1 = lightest use), accounts, expanded, upsell_rate, from, to
    threshold: float | None  # the top fifth's lowest use

    def lift(self) -> float | None:
        """The top fifth's expansion rate over that of the other four fifths together."""
        if self.by_fifth.empty:
            return None
        rest = self.by_fifth.iloc[:-1]
        base = metrics.ratio(rest["expanded"].sum(), float(rest["accounts"].sum()))
        return None if not base else float(self.by_fifth["upsell_rate"].iloc[-1]) / float(base)

    def lookalikes(self, now: pd.DataFrame, expanded_before: Set[str]) -> pd.DataFrame:
        """Accounts now in the top fifth of the feature's use that never expanded in the model months."""
        if self.feature is None or self.threshold is None:
            return now.iloc[0:0]
        like = now[(now[self.feature] >= self.threshold) & ~now["account_id"].isin(expanded_before)]
        return like.sort_values(self.feature, ascending=False)


def upsell(model: Model) -> Upsell:
    """Fit expansion on the same standardized drivers over the training months and profile the
    strongest usage driver across all model months."""
    table = fit_logit(model.train, "expanded", feature_columns(model.train)).table
    table = table.sort_values("odds_ratio", ascending=False).reset_index(drop=True)
    usage = table[table["feature"].str.startswith("use:") & (table["or_low"] > 1)]
    if usage.empty:
        return Upsell(table, None, pd.DataFrame(), None)
    feature = str(usage["feature"].iloc[0])
    p = pd.concat([model.train, model.test]).dropna(subset=[feature])
    fifth = pd.qcut(p[feature].rank(method="first"), 5, labels=[1, 2, 3, 4, 5])
    g = p.groupby(fifth, observed=True)
    by_fifth = pd.DataFrame({"accounts": g.size(), "expanded": g["expanded"].sum(),
                             "from": g[feature].min(), "to": g[feature].max()})
    by_fifth["upsell_rate"] = metrics.upsell_rate(by_fifth["expanded"], by_fifth["accounts"].astype(float))
    return Upsell(table, feature, by_fifth.rename_axis("fifth").reset_index(), float(by_fifth["from"].iloc[-1]))


def expanded_accounts(model: Model) -> set[str]:
    """Accounts that expanded in any of the model's observation months."""
    p = pd.concat([model.train, model.test])
    return set(p.loc[p["expanded"].astype(bool), "account_id"])
