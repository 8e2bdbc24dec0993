"""Customers: the latent traits behind the planted effects, the monthly subscription simulation
(churn, expansion, contraction, reactivation, new customers), daily product usage, support tickets
and CS check-ins.
"""

from __future__ import annotations

import numpy as np

from revbook import contract
from revbook.demo import planted
from revbook.demo.common import (
    BURN_IN_MONTHS,
    DAY,
    _at,
    _choice,
    _ids,
    _labels,
    _nullable,
    _stoch_round,
    _Subscriptions,
    _td,
    _weighted_pick,
)
from revbook.demo.lake import Lake, _UsageParquet, _UsageRows

CHURN_SEASON = np.array([0, 0, 0.35, 0, 0, 0, 0, 0, 0.1, 0, 0, 0])  # fiscal year / half-year ends
EXPANSION_SEASON = np.array([0, 0, 0, 0.3, 0.1, 0, 0, -0.2, 0, 0, 0, 0])  # new budgets in April
PLANS = ("starter", "standard", "pro", "enterprise")
PLAN_MRR_FLOORS = (40_000, 120_000, 300_000)  # starter < 40k ≤ standard < 120k ≤ pro < 300k ≤ enterprise
REACTIVATION_RATE = 0.01  # monthly, for accounts churned ≥ REACTIVATION_GAP months ago
REACTIVATION_GAP = 3
ACTIVE_USER_RATE, OFF_DAY_USER_RATE = 0.45, 0.02
EXTRA_LOGIN_RATE, REPORT_RATE, DASHBOARD_RATE = 0.3, 0.06, 0.3
TICKETS_PER_MONTH = 0.35
TICKET_CATEGORIES = ("bug", "billing", "how_to", "feature_request", "outage")
TICKET_MIX = ((0.20, 0.13, 0.45, 0.19, 0.03), (0.52, 0.08, 0.25, 0.12, 0.03))  # normal, high-error
TICKET_PRIORITY = {  # low, medium, high, urgent
    "bug": (0.1, 0.5, 0.3, 0.1), "billing": (0.4, 0.6, 0, 0), "how_to": (0.6, 0.4, 0, 0),
    "feature_request": (0.8, 0.2, 0, 0), "outage": (0, 0, 0.5, 0.5),
}
RESOLVE_MEDIAN_HOURS = (90, 40, 16, 4)  # by priority
OUTAGE_MONTHS_BEFORE_END = (17, 5)
CS_TOUCHES_PER_MONTH = 0.6
USAGE_BLOCK_CELLS = 1_000_000  # accounts × days counted at once (≈250 MB); scale 1 (≈1.2k accounts) is one block


def _ratio(mean: float, values: np.ndarray) -> float:
    """mean ÷ the mean of values (1 when there are none)."""
    return mean / values.mean() if len(values) else 1.0


def _plan(mrr: np.ndarray) -> np.ndarray:
    """Plan name of each MRR."""
    return np.asarray(PLANS, dtype=object)[np.searchsorted(PLAN_MRR_FLOORS, mrr, side="right")]


class Customers(Lake):
    """Steps `_traits` and `_customers` (once the accounts exist), `_usage`, `_tickets` and
    `_customer_success`."""

    # --- latent traits and subscriptions --------------------------------------------------------

    def _traits(self) -> None:
        """Latent per-account traits: high error rate, heavy API use, engagement, and the CS rep."""
        rng = self.rng
        a = self.n_accounts
        self.acc_high_error = rng.random(a) < planted.HIGH_ERROR_SHARE
        self.acc_api_heavy = rng.random(a) < planted.API_HEAVY_SHARE
        self.acc_error_rate = np.where(self.acc_high_error, rng.uniform(*planted.HIGH_ERROR_RATE, a),
                                       rng.uniform(*planted.NORMAL_ERROR_RATE, a))
        self.acc_engagement = rng.uniform(0.6, 1.0, a)
        self.acc_cs_rep = rng.integers(len(self.cs_reps), size=a)

    def _customers(self) -> None:
        """Monthly simulation of churn, expansion, contraction, reactivation and new customers.

        Each month's churn/expansion/contraction counts are the planted rates × paying accounts
        (with seasonality and noise that averages out over each year), and who is chosen ∝ the
        planted per-account multipliers, so realised rates track the planted means closely.
        """
        cal, rng, T = self.cal, self.rng, self.cal.T
        a = self.n_accounts
        subs = _Subscriptions(a)
        subs.open(np.arange(self.n_base), self.base_mrr, self.base_start)
        won = np.flatnonzero(~np.isnat(self.opp_won_close))
        won_day = self.opp_won_close[won].astype("datetime64[D]")
        won_month = cal.month_index(won_day)
        # latent dormant state: Markov chain per account and month
        dormant = np.zeros((a, T), bool)
        stay, entry = planted.DORMANT_STAY_RATE, planted.DORMANT_ENTRY_RATE
        dormant[:, 0] = rng.random(a) < entry / (entry + 1 - stay)
        for t in range(1, T):
            dormant[:, t] = rng.random(a) < np.where(dormant[:, t - 1], stay, entry)

        def calibrated_noise(season: np.ndarray, sd: float) -> np.ndarray:
            e = season[cal.moy[:T] - 1] + rng.normal(0, sd, T)
            for part in (slice(0, T - 12), slice(T - 12, T)):
                e[part] -= e[part].mean()
            return 1 + e

        churn_level = calibrated_noise(CHURN_SEASON, 0.15)
        expansion_level = calibrated_noise(EXPANSION_SEASON, 0.2)
        contraction_level = calibrated_noise(np.zeros(12), 0.2)
        active_end = np.zeros((a, T), bool)
        churned_month = np.full(a, 10**6)  # month of the last churn
        reactivated = np.zeros(a, bool)
        last_mrr = np.zeros(a)
        for t in range(T):
            paying = np.flatnonzero(subs.current_mrr > 0)
            book_mean = subs.current_mrr[paying].mean() if len(paying) else 0.0
            was_dormant = dormant[paying, t - 1] if t else np.zeros(len(paying), bool)
            hazard = (np.where(self.acc_target[paying], planted.TARGET_CHURN_MULTIPLIER, 1.0)
                      * np.where(was_dormant, planted.NO_LOGIN_CHURN_MULTIPLIER, 1.0)
                      * np.where(self.acc_high_error[paying], planted.ERROR_CHURN_MULTIPLIER, 1.0))
            k = _stoch_round(rng, planted.MONTHLY_CUSTOMER_CHURN * len(paying) * churn_level[t])
            churn = _weighted_pick(rng, paying, k, hazard)
            rest = ~np.isin(paying, churn)
            upsell = (np.where(self.acc_api_heavy[paying], planted.UPSELL_MULTIPLIER, 1.0)
                      * np.where(was_dormant, 0.3, 1.0))
            k = _stoch_round(rng, planted.EXPANSION_RATE * len(paying) * expansion_level[t])
            expand = _weighted_pick(rng, paying[rest], k, upsell[rest])
            rest &= ~np.isin(paying, expand)
            downsell = np.where(was_dormant, 2.0, 1.0) * np.where(self.acc_high_error[paying], 1.5, 1.0)
            k = _stoch_round(rng, planted.CONTRACTION_RATE * len(paying) * contraction_level[t])
            contract_ = _weighted_pick(rng, paying[rest], k, downsell[rest])

            last_mrr[churn] = subs.current_mrr[churn]
            subs.close(churn, cal.month_days(rng, t, len(churn), 1.0 if cal.moy[t] == 3 else 0.6))
            churned_month[churn] = t
            # sizes relative to the average account, so upgrades add EXPANSION_RATE × EXPANSION_SIZE
            # of the book even though heavy API users (often already upgraded) are picked more
            m = subs.current_mrr[expand]
            grow = planted.EXPANSION_SIZE * rng.gamma(2.0, 0.5, len(expand)) * _ratio(book_mean, m)
            subs.change(expand, np.maximum(np.round(m * (1 + grow), -3), m + 1000),
                        cal.month_days(rng, t, len(expand), 0))
            m = subs.current_mrr[contract_]
            shrink = np.minimum(planted.CONTRACTION_SIZE * rng.uniform(0.4, 1.6, len(contract_)) * _ratio(book_mean, m),
                                0.7)
            new_mrr = np.minimum(np.maximum(np.round(m * (1 - shrink), -3), 5000), m - 1000)
            subs.change(contract_, new_mrr, cal.month_days(rng, t, len(contract_), 0))
            back = np.flatnonzero((churned_month <= t - REACTIVATION_GAP) & ~reactivated & (subs.current_mrr == 0))
            back = back[rng.random(len(back)) < REACTIVATION_RATE]
            reactivated[back] = True
            subs.open(back, np.maximum(np.round(last_mrr[back] * rng.uniform(0.6, 1.0, len(back)), -3), 10_000),
                      cal.month_days(rng, t, len(back), 0))
            new = won[won_month == t]
            subs.open(self.n_base + new, self.opp_amount[new], won_day[won_month == t])
            dormant[np.concatenate([back, self.n_base + new]), t] = False  # nobody is dormant in month one
            active_end[:, t] = subs.current_mrr > 0

        self.subs = subs
        self.dormant = dormant & active_end
        self.active_end = active_end
        first_mrr = np.zeros(a)  # seats follow the first subscription's MRR
        customers, first = np.unique(subs.account, return_index=True)
        first_mrr[customers] = subs.mrr[first]
        self.acc_users = np.clip(np.round(first_mrr / 9000 * rng.uniform(0.7, 1.3, a)), 3, 300)
        order = np.lexsort((subs.account, subs.start))
        self.tables["subscriptions"] = {
            "subscription_id": _ids("SB", len(order), 6), "account_id": self.acc_id[subs.account[order]],
            "plan": _plan(subs.mrr[order]), "mrr": subs.mrr[order], "start_date": subs.start[order],
            "end_date": subs.end[order],
        }

    # --- product usage ------------------------------------------------------------------------

    def _usage(self) -> None:
        """Daily usage per paying account in the window, silent while the latent dormant state
        says so: the last 22-28 days of a month turning dormant, whole months while staying
        dormant, and the first days of the month it recovers. Counted in blocks of accounts, each
        block handed to the sink (memory, or a Parquet file at large scales)."""
        cal, rng, T, w0 = self.cal, self.rng, self.cal.T, BURN_IN_MONTHS
        days = cal.span(cal.window_start, cal.end)
        nd = len(days)
        sink = (_UsageRows(self.acc_id) if self.folder is None
                else _UsageParquet(self.folder / "product_usage_daily.parquet", self.acc_id))
        subs = self.subs
        s = np.clip(np.searchsorted(days, subs.start), 0, nd)
        e = np.where(np.isnat(subs.end), nd, np.searchsorted(days, subs.end))
        keep = e > s
        accounts = np.unique(subs.account[keep])
        row = np.searchsorted(accounts, subs.account[keep])
        active = self._intervals(len(accounts), nd, row, s[keep], e[keep])

        rows, lo, hi = [], [], []
        dormant, paying = self.dormant[accounts], self.active_end[accounts]
        for t in range(w0, T):
            i0, i1 = int((cal.ms[t] - cal.window_start) / DAY), int((cal.ms[t + 1] - cal.window_start) / DAY)
            dim = i1 - i0
            before, now = dormant[:, t - 1], dormant[:, t]
            whole = np.flatnonzero(now & before | before & ~paying[:, t])
            tail = np.flatnonzero(now & ~before)
            head = np.flatnonzero(before & ~now & paying[:, t])
            rows += [whole, tail, head]
            lo += [np.full(len(whole), i0), i1 - rng.integers(22, min(28, dim) + 1, len(tail)), np.full(len(head), i0)]
            hi += [np.full(len(whole), i1), np.full(len(tail), i1), i0 + rng.integers(1, dim - 20, len(head))]
        silent = self._intervals(len(accounts), nd, np.concatenate(rows), np.concatenate(lo), np.concatenate(hi))
        on = active & ~silent

        business = cal.business[cal.day_index(days)]
        heavy = self.acc_api_heavy[accounts]
        rows_per_block = max(1, USAGE_BLOCK_CELLS // nd)
        for b0 in range(0, len(accounts), rows_per_block):
            block = slice(b0, b0 + rows_per_block)
            r, d, code, count = self._usage_counts(accounts[block], business, on[block], heavy[block])
            sink.add(days[d], accounts[block][r], code, count)
        sink.finish(self)
        self.usage_accounts, self.usage_days, self.usage_active = accounts, days, active

    def _usage_counts(self, accounts: np.ndarray, business: np.ndarray, on: np.ndarray,
                      heavy: np.ndarray) -> tuple[np.ndarray, ...]:
        """One block of accounts' non-zero daily counts as (row, day, event code, count), sorted by
        day, account and event."""
        rng = self.rng
        users = self.acc_users[accounts][:, None].astype(np.int64)
        p_user = (np.where(business, ACTIVE_USER_RATE, OFF_DAY_USER_RATE)[None, :]
                  * self.acc_engagement[accounts][:, None])
        active_users = rng.binomial(users, p_user) * on
        logins = active_users + rng.binomial(active_users, EXTRA_LOGIN_RATE)
        errors = rng.poisson(logins * self.acc_error_rate[accounts][:, None])
        reports = rng.binomial(active_users, REPORT_RATE)
        dashboards = rng.binomial(active_users, DASHBOARD_RATE)
        light = ~heavy & (rng.random(len(accounts)) < 0.35)
        api_rate = users[:, 0] * np.select([heavy, light], [rng.uniform(2, 6, len(accounts)), 0.15], 0.0)
        api = rng.poisson(api_rate[:, None] * np.where(business, 1.0, 0.3)[None, :]) * on
        parts = []
        for i, counts in enumerate((logins, active_users, errors, reports, dashboards, api)):
            r, d = np.nonzero(counts)
            parts.append((r, d, counts[r, d], np.full(len(r), i, np.int8)))
        r, d, count, code = (np.concatenate(x) for x in zip(*parts))
        order = np.lexsort((code, accounts[r], d))
        return r[order], d[order], code[order], count[order].astype(np.int64)

    @staticmethod
    def _intervals(n_rows: int, n_days: int, row: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Boolean (n_rows, n_days) matrix, True on [lo, hi) of each row's intervals."""
        diff = np.zeros((n_rows, n_days + 1), np.int16)  # overlapping intervals per cell: a handful
        np.add.at(diff, (row, lo), 1)
        np.add.at(diff, (row, hi), -1)
        return np.cumsum(diff, axis=1, dtype=np.int16)[:, :n_days] > 0

    def _random_days(self, mask: np.ndarray, per_row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """per_row random (row, day) cells of each row among its True cells of mask (found a block of
        rows at a time, so a large mask's cells are never all listed at once)."""
        counts = mask.sum(axis=1)
        per_row = np.where(counts > 0, per_row, 0)
        row = np.repeat(np.arange(len(counts)), per_row)
        nth = (self.rng.random(len(row)) * counts[row]).astype(np.int64)  # which True cell of its row
        day = np.empty(len(row), np.int64)
        step = max(1, USAGE_BLOCK_CELLS // mask.shape[1])
        for lo in range(0, len(counts), step):
            block = mask[lo:lo + step]
            first = np.concatenate([[0], np.cumsum(counts[lo:lo + step])[:-1]])
            i0, i1 = np.searchsorted(row, [lo, lo + step])
            day[i0:i1] = np.flatnonzero(block)[first[row[i0:i1] - lo] + nth[i0:i1]] % mask.shape[1]
        return row, day

    # --- support tickets ------------------------------------------------------------------------

    def _tickets(self) -> None:
        """Support tickets of paying accounts (more, and more bugs, for high-error accounts) and two
        outages."""
        cal, rng = self.cal, self.rng
        accounts, days, active = self.usage_accounts, self.usage_days, self.usage_active
        high = self.acc_high_error[accounts]
        lam = (TICKETS_PER_MONTH * active.sum(axis=1) / 30.4 * np.sqrt(self.acc_users[accounts] / 6)
               * np.where(high, 2.5, 1.0))
        row, day = self._random_days(active, rng.poisson(lam))
        created = _at(days[day], 8 + 12 * rng.random(len(row)))
        mix = np.cumsum(np.asarray(TICKET_MIX)[high[row].astype(int)], axis=1)
        category = np.asarray(TICKET_CATEGORIES, dtype=object)[(rng.random(len(row))[:, None] > mix).sum(axis=1)]
        outage_rows, outage_created = [], []
        for k in OUTAGE_MONTHS_BEFORE_END:
            i = int((cal.ms[cal.T - k] - cal.window_start) / DAY) + 9
            hit = np.flatnonzero(active[:, i] & (rng.random(len(accounts)) < 0.25))
            outage_rows.append(hit)
            outage_created.append(_at(np.full(len(hit), days[i]), 9 + 2 * rng.random(len(hit))))
        row = np.concatenate([row, *outage_rows])
        created = np.concatenate([created, *outage_created])
        category = np.concatenate([category, np.full(len(row) - len(category), "outage", dtype=object)])
        priority = np.zeros(len(row), np.int64)
        for cat, p in TICKET_PRIORITY.items():
            m = category == cat
            priority[m] = rng.choice(4, m.sum(), p=p)
        resolved = created + _td(np.asarray(RESOLVE_MEDIAN_HOURS)[priority] * rng.lognormal(0, 0.9, len(row)) / 24)
        resolved = np.where((resolved >= cal.end) | (rng.random(len(row)) < 0.02), np.datetime64("NaT"), resolved)
        order = np.argsort(created, kind="stable")
        self.tables["support_tickets"] = {
            "ticket_id": _ids("TK", len(row), 6), "account_id": self.acc_id[accounts[row[order]]],
            "created_at": created[order], "category": category[order],
            "priority": np.asarray(contract.PRIORITIES, dtype=object)[priority[order]], "resolved_at": resolved[order],
        }

    def _customer_success(self) -> None:
        """CS check-ins (calls, emails, meetings) with paying accounts on business days."""
        rng = self.rng
        accounts, days, active = self.usage_accounts, self.usage_days, self.usage_active
        mask = active & self.cal.business[self.cal.day_index(days)][None, :]
        row, day = self._random_days(mask, rng.poisson(CS_TOUCHES_PER_MONTH * mask.sum(axis=1) / 21))
        n = len(row)
        kind = _choice(rng, ("call", "email", "meeting"), n, p=(0.35, 0.4, 0.25))
        self._activity({
            "occurred_at": _at(days[day], 9 + 9 * rng.random(n)),
            "rep_id": self.cs_reps[self.acc_cs_rep[accounts[row]]], "lead_id": np.full(n, None, dtype=object),
            "opportunity_id": np.full(n, None, dtype=object), "account_id": self.acc_id[accounts[row]], "type": kind,
            "direction": _labels(np.where(rng.random(n) < 0.2, "inbound", "outbound")),
            "connected": _nullable(rng.random(n) < 0.7, kind != "call"),
        })
