"""The targets table: a plan per department and metric, from the trend of the other tables' actuals."""

from __future__ import annotations

import numpy as np

from revbook.demo.common import BURN_IN_MONTHS, DAY, WINDOW_MONTHS, State
from revbook.demo.marketing import ADS

PLAN_STRETCH = 0.05


class Targets(State):
    """Step `_targets`, the last."""

    def _targets(self) -> None:
        """A plan per department and metric: the actuals' linear trend over the window, stretched a
        little in the desirable direction, so some months meet it and some miss."""
        cal = self.cal
        months = cal.ms[BURN_IN_MONTHS:cal.T + 1]

        def per_month(times: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
            idx = np.searchsorted(months, np.asarray(times, "datetime64[ns]"), side="right") - 1
            ok = (idx >= 0) & (idx < WINDOW_MONTHS)
            w = None if values is None else np.asarray(values, float)[ok]
            return np.bincount(idx[ok], weights=w, minlength=WINDOW_MONTHS)

        opps = self.tables["opportunities"]
        won = opps["is_won"]
        won_deals = per_month(opps["closed_at"][won])
        new_mrr = per_month(opps["closed_at"][won], opps["amount"][won])
        ad = np.isin(self.lead_campaign, [a.campaign_id for a in ADS])
        spend = self.tables["ad_spend_daily"]
        mrr = self.subs.mrr_at(cal.ms[BURN_IN_MONTHS:cal.T + 1] - DAY, self.n_accounts)  # month ends
        prev, cur = mrr[:, :-1], mrr[:, 1:]
        base = prev.sum(axis=0)
        paying = prev > 0
        churned = paying & (cur == 0)
        diff = np.where(paying & ~churned, cur - prev, 0)
        lost = (prev * churned).sum(axis=0) - np.minimum(diff, 0).sum(axis=0)
        gained = np.maximum(diff, 0).sum(axis=0)
        customer_churn = churned.sum(axis=0) / paying.sum(axis=0)
        nrr = 1 - (lost - gained) / base
        leads = per_month(self.lead_created)
        actual = {
            "new_leads": leads, "meetings": per_month(self.meet_time), "opportunities": per_month(opps["created_at"]),
            "won_deals": won_deals, "average_deal_size": new_mrr / np.maximum(won_deals, 1), "new_mrr": new_mrr,
            "ending_mrr": cur.sum(axis=0), "customer_churn_rate": customer_churn,
            "net_revenue_churn_rate": 1 - nrr, "grr": 1 - lost / base, "nrr": nrr,
            "target_leads": per_month(self.lead_created[self.lead_target]),
            "cpl": per_month(spend["date"], spend["cost"]) / np.maximum(per_month(self.lead_created[ad]), 1),
            "sqls": per_month(self.lead_qualified[~np.isnat(self.lead_qualified)]),
        }
        plan = [
            ("sales_ops", m, m) for m in ("new_leads", "meetings", "opportunities", "won_deals", "average_deal_size",
                                          "new_mrr", "ending_mrr", "customer_churn_rate", "net_revenue_churn_rate",
                                          "grr", "nrr")
        ] + [("marketing", "leads", "new_leads"), ("marketing", "target_leads", "target_leads"),
             ("marketing", "cpl", "cpl"),
             ("inside_sales", "sqls", "sqls"), ("field_sales", "won_deals", "won_deals"),
             ("field_sales", "new_mrr", "new_mrr"), ("customer_success", "customer_churn_rate", "customer_churn_rate"),
             ("customer_success", "nrr", "nrr")]
        x = np.arange(WINDOW_MONTHS)
        cols: dict[str, list] = {"month": [], "department": [], "metric": [], "target": []}
        for department, metric, source in plan:
            trend = np.polyval(np.polyfit(x, actual[source], 1), x)
            if metric in ("customer_churn_rate", "net_revenue_churn_rate"):
                target = np.round(trend - 0.001, 4)
            elif metric in ("grr", "nrr"):
                target = np.round(trend + 0.001, 4)
            elif metric == "cpl":
                target = np.round(trend * (1 - PLAN_STRETCH), -1)
            elif metric in ("average_deal_size", "new_mrr", "ending_mrr"):
                target = np.round(trend * (1 + PLAN_STRETCH), -3)
            else:
                target = np.round(trend * (1 + PLAN_STRETCH))
            cols["month"] += list(months[:WINDOW_MONTHS])
            cols["department"] += [department] * WINDOW_MONTHS
            cols["metric"] += [metric] * WINDOW_MONTHS
            cols["target"] += list(target)
        self.tables["targets"] = {k: np.asarray(v) for k, v in cols.items()}
