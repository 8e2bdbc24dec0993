"""The truths the demo company plants, in one place: the reports must find these.

`revbook.demo` imports every number below (it holds none of its own for a planted effect);
tests check that the generated data, and later the reports, recover them. Each constant's
docstring says what it plants and how a report should see it.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

# --- 1. customer churn ---------------------------------------------------------------------

MONTHLY_CUSTOMER_CHURN: float = 0.01
"""Mean monthly customer churn rate. Each month the demo churns this share of the accounts
that had MRR at the end of the previous month (seasonal: March, the fiscal year-end, is
higher), choosing who by the per-account multipliers below. A report's customer churn rate
(accounts with MRR(M-1) > 0 and MRR(M) = 0 over accounts with MRR(M-1) > 0), averaged over the
last 12 months, is within ±0.3 points of this at scale 1."""

# --- 2. revenue retention --------------------------------------------------------------------

EXPANSION_RATE: float = 0.034
"""Share of paying accounts that upgrade in a month (end the subscription, start a bigger one
the same day)."""

EXPANSION_SIZE: float = 0.5
"""Mean MRR increase of an upgrade relative to the average paying account's MRR (+50%); each
month's upgrade sizes are scaled so upgrades add EXPANSION_RATE × EXPANSION_SIZE of last month's
MRR in expectation, whichever accounts upgrade."""

CONTRACTION_RATE: float = 0.012
"""Share of paying accounts that downgrade in a month."""

CONTRACTION_SIZE: float = 0.25
"""Mean MRR decrease of a downgrade relative to the average paying account's MRR (-25%),
scaled like EXPANSION_SIZE (and never more than 70% of the account's MRR)."""

MONTHLY_NRR: float = (
    1 - MONTHLY_CUSTOMER_CHURN - CONTRACTION_RATE * CONTRACTION_SIZE + EXPANSION_RATE * EXPANSION_SIZE
)
"""Expected mean monthly net revenue retention, 1.004: expansion slightly outweighs churn and
contraction, so net revenue churn (1 - NRR) is negative in many months. A report's NRR,
averaged over the last 12 months, is within ±1 point of this at scale 1."""

# --- 3. target industries ----------------------------------------------------------------------

TARGET_INDUSTRIES: tuple[str, ...] = ("情報通信業", "製造業", "金融業")
"""The company's target industries; a target lead is a lead in one of them."""

TARGET_CONVERSION_MULTIPLIER: float = 1.8
"""Target-industry leads become SQLs at 1.8x the rate of other leads from the same source,
and their opportunities are won at 1.8x the (direction-normalised) win probability. Reports
see higher lead→SQL, lead→opportunity, win and lead→won rates for target industries."""

TARGET_CHURN_MULTIPLIER: float = 0.6
"""Target-industry customers churn at 0.6x the hazard of others."""

# --- 4. the cheap campaign that brings the wrong leads ---------------------------------------

CHEAP_OFF_TARGET_CAMPAIGN: str = "AD06"
"""campaign_id of an X (Twitter) gift-card campaign with the lowest cost per lead of all ad
campaigns but a target-lead share far below the others and a poor SQL/opportunity rate.
Campaign ROI reports rank it first on CPL and last on cost per target lead."""

CHEAP_CAMPAIGN_CPC: float = 45.0
"""Its cost per click (yen); other ad campaigns pay 70-380."""

CHEAP_CAMPAIGN_CVR: float = 0.025
"""Its click→lead conversion rate, so CPL ≈ 1,800 yen against ≥ 6,000 for the others."""

CHEAP_CAMPAIGN_TARGET_SHARE: float = 0.10
"""Share of its leads in a target industry (the other ad campaigns: 40-60%)."""

CHEAP_CAMPAIGN_SQL_WEIGHT: float = 0.4
"""Extra multiplier on its leads' chance to become an SQL (on top of the industry effect)."""

# --- 5. no login for 20 days ------------------------------------------------------------------

NO_LOGIN_DAYS: int = 20
"""An account whose last login is at least this many days before a month's end is dormant."""

NO_LOGIN_CHURN_MULTIPLIER: float = 6.0
"""A latent dormant state is generated first (a Markov chain per account and month); a dormant
account has no usage events in its last 22-28 days of the month (or the whole month when it
stays dormant) and churns at 6x the hazard in the following month. Reports see accounts with
≥ NO_LOGIN_DAYS days since their last login at a month's end churn about 4-7x as often. With the
error rate below, this is what the health score can know: it bounds the score's AUC near 0.72,
enough for a 3-month hold-out to judge it clearly (scale 3: about 85 churns)."""

DORMANT_ENTRY_RATE: float = 0.05
"""Monthly probability that an active, non-dormant customer turns dormant."""

DORMANT_STAY_RATE: float = 0.45
"""Monthly probability that a dormant customer stays dormant."""

# --- 6. error rate ------------------------------------------------------------------------------

HIGH_ERROR_SHARE: float = 0.15
"""Share of accounts with a persistently high error rate."""

HIGH_ERROR_RATE: tuple[float, float] = (0.12, 0.25)
"""Range of their error events per login event (other accounts: NORMAL_ERROR_RATE)."""

NORMAL_ERROR_RATE: tuple[float, float] = (0.01, 0.05)
"""Range of error events per login event of the other accounts."""

ERROR_CHURN_MULTIPLIER: float = 3.0
"""High-error accounts churn at 3x the hazard. Reports see the churn rate rise with the error
rate (error events ÷ login events), most of it above an error rate of about 0.1."""

# --- 7. upsell feature --------------------------------------------------------------------------

UPSELL_FEATURE: str = "feature_api"
"""The product_usage_daily event_type whose heavy use predicts expansion."""

API_HEAVY_SHARE: float = 0.2
"""Share of accounts that use UPSELL_FEATURE heavily (tens of calls a day)."""

UPSELL_MULTIPLIER: float = 3.0
"""Heavy UPSELL_FEATURE users upgrade at 3x the rate of other accounts: reports see accounts in
the top fifth of feature_api use expand about 3x as often."""

CHURN_NON_DRIVER: str = "feature_dashboard"
"""A product_usage_daily event type generated independently of churn (dashboard views per active
user): a churn model must not find it significant."""

# --- 8. the FS rep over SQL capacity ----------------------------------------------------------

SQL_CAPACITY_BY_SEGMENT: Mapping[str, int] = {"smb": 60, "mid": 45, "enterprise": 30}
"""Nominal monthly SQL capacity of a field-sales rep by segment. reps.monthly_sql_capacity is
these scaled by one factor (keeping the 60:45:30 ratio, minimum 1) so that the FS team runs at
FS_TARGET_UTILISATION of capacity in the last month; the demo's SQL volume per rep is far below
the nominal figures, so unscaled capacities would never bind."""

FS_TARGET_UTILISATION: float = 0.7
"""Expected SQL load of the FS team in the last month as a share of its total capacity."""

OVER_CAPACITY_FS_REP: str = "FS03"
"""rep_id of the enterprise FS rep who is handed more SQLs than their monthly_sql_capacity in
each of the last OVER_CAPACITY_MONTHS months (end_month included). An SQL handed to an FS rep
is a lead meeting: an activities row of type 'meeting' with lead_id set, counted by rep and
calendar month of occurred_at. Every other FS rep stays at or under capacity in every month."""

OVER_CAPACITY_RATIO: float = 1.4
"""The over-capacity rep's monthly SQLs ≈ 1.4x capacity (always at least capacity + 1)."""

OVER_CAPACITY_MONTHS: int = 3
"""How many months, ending with end_month, the rep is over capacity."""

FORMER_FS_REP: str = "FS99"
"""rep_id of a field-sales rep who left before the data window: in the reps table with active =
false, owning nothing. Personal reports fan out to active reps only, so FS99 gets none."""

# --- 9. idle deals --------------------------------------------------------------------------------

IDLE_DEAL_DAYS: int = 30
"""A deal with no activity for this many days is idle and returned to inside sales."""

IDLE_DEAL_SHARE: float = 0.12
"""Share of the open deals older than 60 days that the demo leaves idle (at least one): their
last activity (and stage change) is 38-90 days before the end of end_month. Every other open
deal has an activity in the last 20 days, so `planted_idle_deals` and any report using a
threshold between 21 and 37 days find exactly the same deals."""

# --- 10. inbound vs outbound ----------------------------------------------------------------------

INBOUND_WIN_RATE: float = 0.35
"""Mean win probability of opportunities from inbound leads."""

OUTBOUND_WIN_RATE: float = 0.20
"""Mean win probability of opportunities from outbound (list) leads."""

INBOUND_MEDIAN_CYCLE_DAYS: float = 45.0
"""Median days from opportunity creation to closed won, inbound (outbound: 80); lead
creation → won adds the 1-3 weeks from lead to meeting."""

OUTBOUND_MEDIAN_CYCLE_DAYS: float = 80.0
"""Median days from opportunity creation to closed won for outbound deals."""

OUTBOUND_DEAL_SIZE_MULTIPLIER: float = 1.4
"""Outbound deals are 1.4x bigger (amount, expected MRR) than inbound ones of the same size."""

# --- 11. first-meeting attendees ----------------------------------------------------------------

ATTENDEE_WIN_MULTIPLIERS: tuple[float, ...] = (0.6, 0.85, 1.05, 1.25, 1.45)
"""Relative win probability by first_meeting_attendees = 1..5: reports see the win rate rise
with the number of customer attendees at the first meeting."""


def window_end(frames: Mapping[str, pd.DataFrame]) -> pd.Timestamp:
    """The first instant after the demo's window (the targets cover its 24 months)."""
    return pd.Timestamp(frames["targets"]["month"].max()) + pd.offsets.MonthBegin(1)


def planted_idle_deals(frames: Mapping[str, pd.DataFrame]) -> set[str]:
    """opportunity_ids of the planted idle deals: open opportunities whose last activity is
    more than IDLE_DEAL_DAYS days before the end of the window."""
    opps = frames["opportunities"]
    open_ids = opps.loc[opps["closed_at"].isna(), "opportunity_id"]
    acts = frames["activities"].dropna(subset=["opportunity_id"])
    last = acts.groupby("opportunity_id")["occurred_at"].max()
    last = last.reindex(open_ids).fillna(pd.Timestamp.min)
    cutoff = window_end(frames) - pd.Timedelta(days=IDLE_DEAL_DAYS)
    return set(last.index[last < cutoff])
