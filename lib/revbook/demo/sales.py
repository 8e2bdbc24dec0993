"""Sales: SQLs and FS meetings (the funnel), opportunities with their stage history and FS deal
activities, and the leads table with the IS calls and e-mails, marketing's invitations and the FS
lead meetings behind it.
"""

from __future__ import annotations

import math

import numpy as np

from revbook import contract
from revbook.demo import planted
from revbook.demo.common import (
    DAY,
    INDUSTRIES,
    REGIONS,
    SECOND,
    _choice,
    _days_between,
    _ids,
    _labels,
    _nullable,
    _stoch_round,
    _td,
    _weighted_pick,
)
from revbook.demo.lake import Lake

SQL_RATE = 0.042  # FS meetings per lead created ~20 days earlier
OPPORTUNITY_RATE = 0.85  # meetings that become an opportunity
ATTENDEE_MIX = (0.3, 0.3, 0.2, 0.12, 0.08)  # first_meeting_attendees 1..5
SEGMENT_EMPLOYEES = (100, 1000)  # smb < 100 ≤ mid < 1000 ≤ enterprise
DEAL_MEDIAN_MRR = (45_000, 110_000, 280_000)  # by segment
PRODUCTS = ("core", "analytics", "api")
PRODUCT_MIX = (0.7, 0.2, 0.1)
LOST_CYCLE_FACTOR = 0.8
LOST_AT_STAGE_MIX = (0.35, 0.40, 0.25)  # last stage reached by lost deals: qualification/proposal/negotiation
KEEP_INTEREST_SHARE = 0.3  # lost-bound deals parked in keep_interest instead
CONNECT_RATE = {"inbound": 0.45, "outbound": 0.12}
RECYCLE_REASONS = ("予算確保できず", "時期尚早", "競合製品を導入済み", "担当者不在", "検討中止")
LOSS_REASONS = ("価格", "競合", "機能不足", "時期尚早", "予算凍結", "社内稟議否決")


def _systematic(rng: np.random.Generator, p: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Bernoulli(p) draws by systematic sampling along `order`: every run of consecutive items
    gets within one of its expected number of successes."""
    cum = np.floor(np.concatenate([[0.0], np.cumsum(p[order])]) + rng.random())
    hit = np.empty(len(p), bool)
    hit[order] = np.diff(cum) > 0
    return hit


def _quotas(n: int, cap: np.ndarray, over: int | None, over_quota: int) -> np.ndarray:
    """Meetings per FS rep in a month of n: proportional to capacity and none above it, except
    rep `over`, which takes `over_quota` first and any overflow."""
    q = np.zeros(len(cap), np.int64)
    share = cap.astype(float)
    limit = cap.copy()
    if over is not None:
        q[over] = min(over_quota, n)
        share[over] = 0.0
        limit[over] = np.iinfo(np.int64).max
    ideal = (n - q.sum()) * share / share.sum()
    q += np.floor(ideal).astype(np.int64)
    q[np.argsort(np.floor(ideal) - ideal, kind="stable")[: n - q.sum()]] += 1
    excess = int(np.maximum(q - limit, 0).sum())
    q = np.minimum(q, limit)
    for _ in range(excess):
        q[int(np.argmax(limit - q))] += 1
    return q


class Sales(Lake):
    """Steps `_funnel` and `_opportunities` (after marketing), and `_lead_activities` (once the
    accounts exist)."""

    # --- SQLs and FS meetings -----------------------------------------------------------------

    def _funnel(self) -> None:
        """Month by month: how many FS meetings (planned from lead volume, bounded by FS
        capacity), which leads become SQLs for them (∝ lead weight, recent leads first), when
        they qualify, and which FS rep takes each meeting."""
        cal, rng, T = self.cal, self.rng, self.cal.T
        created = self.lead_created
        lagged = np.searchsorted(created, cal.ms - 20 * DAY)
        expected = SQL_RATE * np.diff(lagged)  # months 0..T
        base = np.array([planted.SQL_CAPACITY_BY_SEGMENT[s] for s in self.fs_segment], dtype=float)
        factor = expected[T - 1] / (planted.FS_TARGET_UTILISATION * base.sum())
        cap = np.maximum(1, np.round(base * factor)).astype(np.int64)
        self.fs_capacity = cap
        over = int(np.flatnonzero(self.fs_reps == planted.OVER_CAPACITY_FS_REP)[0])
        over_quota = max(int(cap[over]) + 1, math.ceil(planted.OVER_CAPACITY_RATIO * cap[over]))
        planned = _stoch_round(rng, expected * rng.lognormal(0, 0.1, len(expected)))
        over_from = T - planted.OVER_CAPACITY_MONTHS
        planned[:over_from] = np.minimum(planned[:over_from], round(0.9 * cap.sum()))
        planned[over_from:T] = np.clip(planned[over_from:T], over_quota, over_quota + cap.sum() - cap[over])
        seg_rank = np.array([contract.SEGMENTS.index(s) for s in self.fs_segment])
        fs_order = np.argsort(seg_rank, kind="stable")
        employees = np.where(self.lead_employees_known, self.lead_employees, 100)

        self.lead_qualified = np.full(self.n_leads, np.datetime64("NaT"), "datetime64[ns]")
        used = np.zeros(self.n_leads, bool)
        meetings: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for t in range(T + 1):
            lo, hi = cal.ms[t], cal.ms[t + 1]
            window = slice(np.searchsorted(created, lo - 90 * DAY),
                           np.searchsorted(created, min(hi, cal.end) - 3 * DAY))
            pool = np.arange(window.start, window.stop)[~used[window]]
            age = np.maximum(_days_between(created[pool], np.full(len(pool), lo)), 0)
            pick = _weighted_pick(rng, pool, planned[t], self.lead_weight[pool] * np.exp(-age / 25))
            c = created[pick]
            meet = cal.business_times(rng, np.maximum(lo, c + 2 * DAY), np.full(len(pick), hi - SECOND))
            qualified = cal.business_times(rng, np.maximum(c + _td(0.5), meet - 14 * DAY), meet - DAY)
            if t == T:  # qualified before the end, meeting next month: an SQL awaiting its meeting
                pick, qualified = pick[qualified < cal.end], qualified[qualified < cal.end]
            else:
                q = _quotas(len(pick), cap, over if t >= over_from else None, over_quota)
                seq = np.repeat(fs_order, q[fs_order])
                for g in range(3):
                    block = seg_rank[seq] == g
                    seq[block] = rng.permutation(seq[block])
                rep = np.empty(len(pick), np.int64)
                rep[np.argsort(employees[pick], kind="stable")] = seq
                meetings.append((pick, meet, rep))
            used[pick] = True
            self.lead_qualified[pick] = qualified
        self.meet_lead = np.concatenate([m[0] for m in meetings])
        self.meet_time = np.concatenate([m[1] for m in meetings])
        self.meet_rep = np.concatenate([m[2] for m in meetings])

    # --- opportunities ------------------------------------------------------------------------

    def _opportunities(self) -> None:
        """Deals from meetings: outcome (win probability by direction, industry and attendees),
        size, cycle, stage history, the planted idle deals, and FS activity on each deal."""
        cal, rng = self.cal, self.rng
        is_opp = rng.random(len(self.meet_lead)) < OPPORTUNITY_RATE
        self.meet_opp = np.full(len(self.meet_lead), -1)
        self.meet_opp[is_opp] = np.arange(is_opp.sum())
        lead, created, owner = self.meet_lead[is_opp], self.meet_time[is_opp], self.meet_rep[is_opp]
        n = len(lead)
        self.opp_lead, self.opp_created, self.opp_owner = lead, created, owner
        outbound, target = self.lead_outbound[lead], self.lead_target[lead]
        attendees = rng.choice(5, n, p=ATTENDEE_MIX) + 1
        lift = (np.where(target, planted.TARGET_CONVERSION_MULTIPLIER, 1.0)
                * np.asarray(planted.ATTENDEE_WIN_MULTIPLIERS)[attendees - 1])
        p_win = np.zeros(n)
        for flag, rate in ((False, planted.INBOUND_WIN_RATE), (True, planted.OUTBOUND_WIN_RATE)):
            m = outbound == flag
            if m.any():
                p_win[m] = rate * lift[m] / lift[m].mean()
        won = _systematic(rng, np.minimum(p_win, 0.95), np.lexsort((attendees, target, outbound)))

        employees = np.where(self.lead_employees_known[lead], self.lead_employees[lead], 100)
        segment = np.searchsorted(SEGMENT_EMPLOYEES, employees, side="right")
        product = rng.choice(len(PRODUCTS), n, p=PRODUCT_MIX)
        amount = (np.asarray(DEAL_MEDIAN_MRR)[segment] * rng.lognormal(0, 0.35, n)
                  * np.where(outbound, planted.OUTBOUND_DEAL_SIZE_MULTIPLIER, 1.0) * (1 + 0.15 * (product > 0)))
        amount = np.maximum(np.round(amount, -3), 10_000)

        median = np.where(outbound, planted.OUTBOUND_MEDIAN_CYCLE_DAYS, planted.INBOUND_MEDIAN_CYCLE_DAYS)
        cycle = np.where(won, median * rng.lognormal(0, 0.45, n), median * LOST_CYCLE_FACTOR * rng.lognormal(0, 0.6, n))
        close = created + _td(np.maximum(cycle, 10))
        # fiscal year-end rush: half the deals due to close in April close in late March instead
        mi = np.clip(cal.month_index(close), 0, cal.T)
        rush = won & (close < cal.end) & (cal.moy[mi] == 4) & (rng.random(n) < 0.5)
        rush &= cal.ms[mi] - 17 * DAY > created + 10 * DAY
        close = np.where(rush, cal.ms[mi] - _td(1 + 15 * rng.random(n)), close)
        span = _days_between(created, close)
        proposal = cal.business_times(rng, created + _td(0.15 * span), created + _td(0.35 * span))
        negotiation = cal.business_times(rng, created + _td(0.5 * span), created + _td(0.75 * span))
        close = cal.business_times(rng, created + _td(0.88 * span), close)

        last_stage = np.where(won, 2, rng.choice(3, n, p=LOST_AT_STAGE_MIX))
        parked = rng.random(n) < KEEP_INTEREST_SHARE
        final = np.where(won, "closed_won", np.where(parked, "keep_interest", "closed_lost"))
        reached = np.stack([np.ones(n, bool), last_stage >= 1, last_stage >= 2, np.ones(n, bool)])
        times = np.stack([created, proposal, negotiation, close])
        reached &= times < cal.end
        closed = reached[3] & (final != "keep_interest")

        eligible = np.flatnonzero(~closed & (created < cal.end - 60 * DAY))
        n_idle = max(1, round(planted.IDLE_DEAL_SHARE * len(eligible))) if len(eligible) else 0
        idle = np.sort(rng.choice(eligible, size=n_idle, replace=False))
        stall = np.full(n, cal.end)
        stall[idle] = cal.business_times(rng, np.maximum(created[idle] + DAY, cal.end - 90 * DAY),
                                         np.full(n_idle, cal.end - (planted.IDLE_DEAL_DAYS + 8) * DAY))
        reached &= times <= stall
        stage_names = np.stack([np.full(n, "qualification"), np.full(n, "proposal"), np.full(n, "negotiation"), final])
        current = stage_names[3 - np.argmax(reached[::-1], axis=0), np.arange(n)]

        self.opp_id = _ids("OP", n, 6)
        self.opp_won_close = np.where(closed & won, close, np.datetime64("NaT"))
        self.opp_amount = amount
        self.tables["opportunities"] = {
            "opportunity_id": self.opp_id, "lead_id": self.lead_id[lead], "owner_rep_id": self.fs_reps[owner],
            "created_at": created, "stage": _labels(current), "amount": amount,
            "product": np.asarray(PRODUCTS, dtype=object)[product],
            "closed_at": np.where(closed, close, np.datetime64("NaT")), "is_won": closed & won,
            "loss_reason": _nullable(_choice(rng, LOSS_REASONS, n), ~(closed & ~won)),
            "first_meeting_attendees": attendees,
        }
        k, i = np.nonzero(reached)
        self.tables["opportunity_stage_history"] = {
            "opportunity_id": self.opp_id[i], "stage": _labels(stage_names[k, i]), "entered_at": times[k, i],
        }
        # activities on the deal: one per stage change, regular touches, the idle deals' last
        # touch when they stall, and a touch in the last 20 days for every other open deal
        stage_type = np.stack([np.full(n, "meeting"), np.where(rng.random(n) < 0.3, "demo", "meeting"),
                               np.where(rng.random(n) < 0.5, "meeting", "call"),
                               np.select([final == "closed_won", final == "closed_lost"], ["meeting", "call"],
                                         "email")])
        sk, si = k[k > 0], i[k > 0]
        last = np.minimum(np.where(closed, close, cal.end - SECOND), stall)
        n_touch = rng.poisson(np.maximum(_days_between(created, last), 0) / 14)
        ti = np.repeat(np.arange(n), n_touch)
        touch = cal.business_times(rng, created[ti], last[ti])
        recent = np.flatnonzero(~closed & (stall == cal.end) & (created < cal.end - 20 * DAY))
        when = np.concatenate([times[sk, si], touch, stall[idle],
                               cal.business_times(rng, np.full(len(recent), cal.end - 20 * DAY),
                                                  np.full(len(recent), cal.end - SECOND))])
        opp = np.concatenate([si, ti, idle, recent])
        kind = _labels(np.concatenate([stage_type[sk, si],
                                       _choice(rng, ("email", "call", "demo"), len(ti), p=(0.5, 0.4, 0.1)),
                                       np.full(n_idle, "email"), _choice(rng, ("email", "call"), len(recent))]))
        self._deal_activities(opp, when, kind)

    def _deal_activities(self, opp: np.ndarray, when: np.ndarray, kind: np.ndarray) -> None:
        """FS activities on opportunities (account ids are attached once accounts exist)."""
        rng = self.rng
        n = len(opp)
        call = kind == "call"
        self.deal_acts = {
            "occurred_at": when, "rep_id": self.fs_reps[self.opp_owner[opp]], "lead_id": np.full(n, None, dtype=object),
            "opportunity_id": self.opp_id[opp], "opp_index": opp, "type": kind,
            "direction": _labels(np.where((kind == "email") & (rng.random(n) < 0.15), "inbound", "outbound")),
            "connected": _nullable(rng.random(n) < 0.65, ~call),
        }

    # --- leads: status, ownership and inside-sales work ------------------------------------------

    def _lead_activities(self) -> None:
        """Lead status and owner as of the end, IS calls and emails, marketing invitations, FS lead
        meetings, and the leads table."""
        cal, rng = self.cal, self.rng
        n = self.n_leads
        created, qualified = self.lead_created, self.lead_qualified
        sql = ~np.isnat(qualified)
        age = _days_between(created, np.full(n, cal.end))
        direction = _labels(np.where(self.lead_outbound, "outbound", "inbound"))

        # status as of the end of the window
        later = rng.choice(4, n, p=(0.25, 0.45, 0.20, 0.10))  # disqualified/nurturing/recycled/working
        recent = rng.choice(3, n, p=(0.8, 0.1, 0.1))  # working/disqualified/nurturing
        status = np.select(
            [sql, age <= 3, age <= 30],
            ["qualified", "new", np.asarray(("working", "disqualified", "nurturing"), dtype=object)[recent]],
            np.asarray(("disqualified", "nurturing", "recycled", "working"), dtype=object)[later],
        ).astype(object)
        recycled, nurturing = status == "recycled", status == "nurturing"
        approach = (created.astype("datetime64[D]") + rng.integers(60, 240, n) * DAY)
        has_approach = recycled | (nurturing & (rng.random(n) < 0.4))

        # owners: an IS rep who was still there; 'new' leads are half unassigned
        owner = rng.integers(len(self.is_reps), size=n)
        leave = self.is_leave[owner]
        moved = (created >= leave - 60 * DAY) | (sql & (qualified >= leave))
        others = rng.integers(len(self.is_reps) - 1, size=n)
        owner = np.where(moved, others + (others >= owner), owner)
        assigned = ~((status == "new") & (rng.random(n) < 0.5))

        # calls and emails: SQLs get a connected qualifying call just before qualified_at
        worked = np.flatnonzero(assigned & (status != "new"))
        horizon = np.where(sql[worked], qualified[worked] - np.timedelta64(1, "h"),
                           np.minimum(created[worked] + 45 * DAY, cal.end - SECOND))
        horizon = np.maximum(horizon, created[worked])
        calls = rng.poisson(np.where(sql[worked], 1.2, np.where(self.lead_outbound[worked], 3.0, 1.8)))
        emails = rng.poisson(1.2, len(worked))
        i = np.concatenate([np.repeat(worked, calls), np.repeat(worked, emails), np.flatnonzero(sql)])
        hz = np.concatenate([np.repeat(horizon, calls), np.repeat(horizon, emails)])
        when = np.concatenate([cal.business_times(rng, created[i[:len(hz)]], hz),
                               np.maximum(qualified[sql] - _td((5 + 35 * rng.random(sql.sum())) / 1440), created[sql])])
        kind = np.concatenate([np.full(calls.sum(), "call"), np.full(emails.sum(), "email"),
                               np.full(sql.sum(), "call")])
        connected = np.where(kind == "call", rng.random(len(i)) < np.where(self.lead_outbound[i],
                             CONNECT_RATE["outbound"], CONNECT_RATE["inbound"]), False)
        connected[len(hz):] = True
        keep = when < self.is_leave[owner[i]]
        i, when, kind, connected = i[keep], when[keep], kind[keep], connected[keep]
        self._activity({
            "occurred_at": when, "rep_id": self.is_reps[owner[i]], "lead_id": self.lead_id[i],
            "opportunity_id": np.full(len(i), None, dtype=object), "account_id": np.full(len(i), None, dtype=object),
            "type": _labels(kind), "direction": direction[i], "connected": _nullable(connected, kind != "call"),
        })

        # marketing's seminar invitations to nurtured and recycled leads
        pool = np.flatnonzero((nurturing | recycled) & (created < cal.end - 8 * DAY))
        j = np.repeat(pool, rng.poisson(1.2, len(pool)))
        self._activity({
            "occurred_at": cal.business_times(rng, created[j] + 7 * DAY, np.full(len(j), cal.end - SECOND)),
            "rep_id": self.mk_reps[rng.integers(len(self.mk_reps), size=len(j))], "lead_id": self.lead_id[j],
            "opportunity_id": np.full(len(j), None, dtype=object), "account_id": np.full(len(j), None, dtype=object),
            "type": np.full(len(j), "seminar_invite", dtype=object),
            "direction": np.full(len(j), "outbound", dtype=object),
            "connected": np.full(len(j), None, dtype=object),
        })

        # FS lead meetings (and the opportunities created at them)
        m = self.meet_lead
        has_opp = self.meet_opp >= 0
        opp_ids = _nullable(np.where(has_opp, self.opp_id[np.maximum(self.meet_opp, 0)], ""), ~has_opp)
        acc_ids = _nullable(np.where(has_opp, self.acc_id[self.n_base + np.maximum(self.meet_opp, 0)], ""), ~has_opp)
        self._activity({
            "occurred_at": self.meet_time, "rep_id": self.fs_reps[self.meet_rep], "lead_id": self.lead_id[m],
            "opportunity_id": opp_ids, "account_id": acc_ids, "type": np.full(len(m), "meeting", dtype=object),
            "direction": direction[m], "connected": np.full(len(m), None, dtype=object),
        })
        self._activity(self.deal_acts)

        lead_opp = np.full(n, None, dtype=object)
        lead_acc = np.full(n, None, dtype=object)
        lead_opp[self.opp_lead] = self.opp_id
        lead_acc[self.opp_lead] = self.acc_id[self.n_base:]
        recycle_reason = _nullable(_choice(rng, RECYCLE_REASONS, n), ~recycled)
        self.tables["leads"] = {
            "lead_id": self.lead_id, "created_at": created, "account_id": lead_acc, "company_name": self.lead_company,
            "industry": np.asarray(INDUSTRIES, dtype=object)[self.lead_industry],
            "employee_count": _nullable(self.lead_employees.astype(np.int64), ~self.lead_employees_known),
            "region": _nullable(np.asarray(REGIONS, dtype=object)[self.lead_region], ~self.lead_region_known),
            "lead_source": self.lead_source, "campaign_id": self.lead_campaign, "creative_id": self.lead_creative,
            "direction": direction, "owner_rep_id": _nullable(self.is_reps[owner], ~assigned), "status": status,
            "recycle_reason": recycle_reason,
            "next_approach_date": np.where(has_approach, approach, np.datetime64("NaT")),
            "qualified_at": qualified, "opportunity_id": lead_opp,
            "counterpart_department": self.lead_department, "counterpart_title": self.lead_title,
        }
