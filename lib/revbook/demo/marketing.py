"""Marketing: the campaigns (ads, steady channels, the outbound list, seminars, webinars and
exhibitions), daily ad spend, the leads they bring, and the leads' web and e-mail touchpoints.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from revbook.demo import planted
from revbook.demo.common import (
    DAY,
    INDUSTRIES,
    MONTH_SEASON,
    REGION_MIX,
    REGIONS,
    SECOND,
    State,
    _at,
    _choice,
    _company_names,
    _days_between,
    _ids,
    _industries,
    _labels,
    _nullable,
    _td,
)


@dataclass(frozen=True)
class _Ad:
    """An ad campaign: per-month lead volume at the window's end (scale 1) and its economics."""

    campaign_id: str
    name: str
    channel: str
    platform: str
    leads_per_month: float
    cpc: float
    ctr: float
    cvr: float
    target_share: float
    employee_median: float = 80
    sql_weight: float = 1.0
    starts_months_before_end: int | None = None  # None: running since before the data starts
    ended_months_before_end: int | None = None  # None: still running


ADS = (
    _Ad("AD01", "リスティング_Google_指名検索", "listing_ads", "google_ads", 90, 320, 0.08, 0.05, 0.50),
    _Ad("AD02", "リスティング_Yahoo_一般キーワード", "listing_ads", "yahoo_ads", 70, 280, 0.03, 0.022, 0.45),
    _Ad("AD03", "ディスプレイ_Google_リターゲティング", "display_ads", "google_ads", 60, 95, 0.006, 0.012, 0.45),
    _Ad("AD04", "ディスプレイ_Yahoo_業種ターゲティング", "display_ads", "yahoo_ads", 40, 70, 0.004, 0.008, 0.40,
        ended_months_before_end=8),
    _Ad("AD05", "SNS_Facebook_製造業向け事例", "social_ads", "facebook_ads", 50, 140, 0.009, 0.015, 0.60),
    _Ad(planted.CHEAP_OFF_TARGET_CAMPAIGN, "SNS_X_ギフト券プレゼント", "social_ads", "x_ads", 120,
        planted.CHEAP_CAMPAIGN_CPC, 0.012, planted.CHEAP_CAMPAIGN_CVR, planted.CHEAP_CAMPAIGN_TARGET_SHARE,
        employee_median=15, sql_weight=planted.CHEAP_CAMPAIGN_SQL_WEIGHT, starts_months_before_end=15),
    _Ad("AD07", "メール広告_Yahoo_情報システム担当者", "email_ads", "yahoo_ads", 30, 180, 0.015, 0.02, 0.50),
    _Ad("AD08", "リスティング_Google_比較キーワード", "listing_ads", "google_ads", 50, 380, 0.05, 0.03, 0.45,
        starts_months_before_end=12),
)
CREATIVE_SHARE = (0.5, 0.3, 0.2)
CREATIVE_CTR = (1.0, 1.25, 0.8)
CREATIVE_CVR = (1.0, 0.85, 1.2)
ORGANIC_PER_MONTH, REFERRAL_PER_MONTH, OUTBOUND_PER_MONTH, WHITEPAPER_PER_MONTH = 330, 55, 340, 60
SEMINAR_LEADS, WEBINAR_LEADS, EXHIBITION_LEADS = 60, 75, 450
EXHIBITION_MONTHS = (5, 10)
WHITEPAPERS = (
    ("WP01", "ホワイトペーパー_営業DX入門", -6),  # release: months after the data starts
    ("WP02", "ホワイトペーパー_SaaS KPI大全", 5),
    ("WP03", "ホワイトペーパー_製造業の需要予測", 13),
    ("WP04", "ホワイトペーパー_インサイドセールス立ち上げガイド", 21),
)
SEMINAR_TOPICS = ("営業生産性向上", "The Model実践", "データドリブン経営", "カスタマーサクセス入門")
SOURCE_SQL_WEIGHT = {
    "document_request": 1.0, "trial": 1.4, "whitepaper": 0.6, "seminar": 1.0, "exhibition": 0.7,
    "contact_form": 1.6, "referral": 2.5, "list": 0.9,
}
WEB_SOURCES = ("document_request", "contact_form", "trial")
PAGES = ("/", "/pricing", "/features", "/features/analytics", "/features/api", "/case-studies",
         "/case-studies/manufacturing", "/blog/the-model", "/blog/sales-kpi", "/security")
SITE = "https://www.revbook-demo.jp"
UTM_TOUCHES = (("page_view", "AD03", 0.3), ("email_click", "AD07", 0.5))  # touch type, campaign, share tagged
COUNTERPART_DEPARTMENTS = (
    "情報システム部", "経営企画部", "営業部", "営業企画部", "マーケティング部", "総務部", "DX推進室",
)
COUNTERPART_TITLES = ("代表取締役", "取締役", "部長", "課長", "係長", "主任", "担当")


class Marketing(State):
    """Steps `_marketing` (campaigns, spend and leads; first after the reps) and `_touchpoints`."""

    # --- campaigns, ad spend, leads -----------------------------------------------------------

    def _marketing(self) -> None:
        """Every campaign with its leads (and daily spend for ads)."""
        cal = self.cal
        self.campaigns: list[dict] = []
        self.spend: list[dict[str, np.ndarray]] = []
        self.batches: list[dict[str, np.ndarray]] = []
        for ad in ADS:
            self._ad_campaign(ad)
        data_start = cal.ms[0]
        self._steady_channel("OG01", "オーガニック検索", "organic", ORGANIC_PER_MONTH, 0.45, 100, data_start)
        self._steady_channel("RF01", "パートナー紹介", "referral", REFERRAL_PER_MONTH, 0.55, 150, data_start)
        for cid, name, release in WHITEPAPERS:
            start = (pd.Timestamp(data_start) + pd.DateOffset(months=release)).to_datetime64()
            self._steady_channel(cid, name, "whitepaper", WHITEPAPER_PER_MONTH, 0.40, 150, start, budget=800_000)
        self._outbound()
        for t in range(cal.T):
            self._event(t, "seminar")
            self._event(t, "webinar")
            if cal.moy[t] in EXHIBITION_MONTHS:
                self._event(t, "exhibition")
        self._leads()

    def _add_campaign(self, cid: str, name: str, channel: str, platform: str | None,
                      start: np.datetime64, end: np.datetime64 | None, budget: float | None) -> None:
        self.campaigns.append({"campaign_id": cid, "name": name, "channel": channel, "platform": platform,
                               "start_date": start, "end_date": end, "budget": budget})

    def _add_leads(self, created: np.ndarray, source: np.ndarray | str, campaign: str | None,
                   target_share: float, employee_median: float, sql_weight: float = 1.0,
                   creative: np.ndarray | None = None, event: np.datetime64 | np.ndarray | None = None) -> None:
        n = len(created)
        self.batches.append({
            "created": np.asarray(created, "datetime64[ns]"),
            "source": np.broadcast_to(np.asarray(source, dtype=object), (n,)),
            "campaign": np.full(n, campaign, dtype=object),
            "creative": np.full(n, None, dtype=object) if creative is None else creative,
            "target_share": np.full(n, target_share), "employee_median": np.full(n, float(employee_median)),
            "sql_weight": np.full(n, sql_weight),
            "event": np.full(n, np.datetime64("NaT") if event is None else event, "datetime64[ns]"),
        })

    def _web_times(self, days: np.ndarray) -> np.ndarray:
        """Times of web form submissions on the given days (mostly 8:00-20:00 JST)."""
        n = len(days)
        return _at(days, np.where(self.rng.random(n) < 0.8, 8 + 12 * self.rng.random(n), 24 * self.rng.random(n)))

    def _ad_campaign(self, ad: _Ad) -> None:
        """Daily impressions, clicks and cost per creative, and the leads the clicks bring."""
        cal, rng = self.cal, self.rng
        start = cal.ms[cal.T - ad.starts_months_before_end] if ad.starts_months_before_end else cal.ms[0] - 365 * DAY
        end = cal.ms[cal.T - ad.ended_months_before_end] if ad.ended_months_before_end else cal.end
        live_from = max(start, cal.ms[0])
        cost_total = 0.0
        for k, share in enumerate(CREATIVE_SHARE):
            lo = live_from + (end - live_from) * 2 // 5 if k == 2 else live_from
            days = cal.span(lo, end)
            leads_expected = (ad.leads_per_month * self.scale / 30.4 * share * cal.volume(days)
                              * cal.day_factor(days, 0.6, 0.5))
            ctr, cvr = ad.ctr * CREATIVE_CTR[k], ad.cvr * CREATIVE_CVR[k]
            impressions = rng.poisson(leads_expected / cvr / ctr)
            clicks = rng.binomial(impressions, ctr)
            cost = np.round(clicks * ad.cpc * rng.lognormal(0, 0.1, len(days)))
            leads = rng.binomial(clicks, cvr)
            creative = f"{ad.campaign_id}-C{k + 1}"
            self.spend.append({"date": days, "campaign_id": np.full(len(days), ad.campaign_id, dtype=object),
                               "creative_id": np.full(len(days), creative, dtype=object),
                               "impressions": impressions, "clicks": clicks, "cost": cost})
            cost_total += cost.sum()
            created = self._web_times(np.repeat(days, leads))
            source = _choice(rng, WEB_SOURCES, len(created), p=(0.6, 0.25, 0.15))
            self._add_leads(created, source, ad.campaign_id, ad.target_share, ad.employee_median, ad.sql_weight,
                            creative=np.full(len(created), creative, dtype=object))
        budget = round(cost_total * rng.uniform(1.0, 1.15), -4)
        self._add_campaign(ad.campaign_id, ad.name, ad.channel, ad.platform, start,
                           end - DAY if ad.ended_months_before_end else None, budget)

    def _steady_channel(self, cid: str, name: str, channel: str, per_month: float, target_share: float,
                        employee_median: float, start: np.datetime64, budget: float | None = None) -> None:
        """A campaign with leads every day (organic, referral, whitepaper)."""
        cal, rng = self.cal, self.rng
        days = cal.span(max(start, cal.ms[0]), cal.end)
        lam = per_month * self.scale / 30.4 * cal.volume(days) * cal.day_factor(days, 0.35, 0.25)
        created = self._web_times(np.repeat(days, rng.poisson(lam)))
        n = len(created)
        if channel == "organic":
            source = _choice(rng, WEB_SOURCES, n, p=(0.45, 0.35, 0.20))
            # a fifth of organic leads arrive without any campaign attribution
            self._add_leads(created[rng.random(n) < 0.2], "contact_form", None, target_share, employee_median)
            keep = rng.random(n) >= 0.2
            created, source = created[keep], source[keep]
        else:
            source = np.full(n, "referral" if channel == "referral" else "whitepaper", dtype=object)
        self._add_leads(created, source, cid, target_share, employee_median)
        self._add_campaign(cid, name, channel, None, start, None, budget)

    def _outbound(self) -> None:
        """List leads imported by inside sales on business days: outbound direction."""
        cal, rng = self.cal, self.rng
        created = []
        for t in range(cal.T):
            n = rng.poisson(OUTBOUND_PER_MONTH * self.scale * cal.volume(cal.ms[t:t + 1])[0])
            created.append(cal.business_times(rng, np.full(n, cal.ms[t]), np.full(n, cal.ms[t + 1] - SECOND)))
        self._add_leads(np.sort(np.concatenate(created)), "list", "OB01", 0.55, 450)
        self._add_campaign("OB01", "アウトバウンド_企業リスト", "outbound", None, cal.ms[0] - 365 * DAY, None,
                           2_400_000)

    def _event(self, t: int, kind: str) -> None:
        """A seminar, webinar or exhibition in month t with its registrations as leads."""
        cal, rng = self.cal, self.rng
        month = pd.Timestamp(cal.ms[t])
        first_bd = np.searchsorted(cal.business_days, (cal.ms[t] + {"seminar": 16, "webinar": 8, "exhibition": 10}[kind]
                                                       * DAY).astype("datetime64[D]"))
        day = cal.business_days[first_bd]
        volume = cal.volume(np.array([day]))[0]
        label = f"{month.year}年{month.month}月"
        if kind == "exhibition":
            days = cal.business_days[first_bd:first_bd + 3]
            season = "春" if month.month < 7 else "秋"
            n = rng.poisson(EXHIBITION_LEADS / 3 * self.scale * volume / MONTH_SEASON[month.month - 1], size=3)
            created = _at(np.repeat(days, n), 10 + 7 * rng.random(n.sum()))
            cid = f"EX-{month:%Y%m}"
            self._add_leads(created, "exhibition", cid, 0.45, 300)
            self._add_campaign(cid, f"展示会_DX総合展{season}{month.year}", "exhibition", None,
                               day - 60 * DAY, days[-1], round(rng.uniform(3.5e6, 5e6), -4))
            return
        per_event, target, emp, budget, prefix, title = {
            "seminar": (SEMINAR_LEADS, 0.50, 200, 300_000, "SE", f"自社セミナー_{label}_{SEMINAR_TOPICS[t % 4]}"),
            "webinar": (WEBINAR_LEADS, 0.45, 120, 120_000, "WB", f"ウェビナー_{label}_{SEMINAR_TOPICS[(t + 2) % 4]}"),
        }[kind]
        n = rng.poisson(per_event * self.scale * volume)
        created = self._web_times(day - rng.integers(1, 22, n) * DAY)
        event = _at(day, 14)
        cid = f"{prefix}-{month:%Y%m}"
        self._add_leads(created, "seminar", cid, target, emp, event=event)
        self._add_campaign(cid, title, kind, None, day - 30 * DAY, day, float(budget))

    def _leads(self) -> None:
        """Lead attributes, campaigns and ad spend tables; SQLs come from `_funnel`, status, owner
        and links from `_lead_activities`."""
        rng = self.rng
        b = {k: np.concatenate([x[k] for x in self.batches]) for k in self.batches[0]}
        order = np.argsort(b["created"], kind="stable")
        b = {k: v[order] for k, v in b.items()}
        n = len(order)
        self.n_leads = n
        self.lead_id = _ids("LD", n, 6)
        self.lead_created = b["created"]
        self.lead_source = b["source"]
        self.lead_campaign = b["campaign"]
        self.lead_creative = b["creative"]
        self.lead_event = b["event"]
        self.lead_outbound = self.lead_source == "list"
        self.lead_industry = _industries(rng, b["target_share"])
        self.lead_target = np.isin(self.lead_industry, [INDUSTRIES.index(i) for i in planted.TARGET_INDUSTRIES])
        self.lead_employees = np.clip(np.round(np.exp(np.log(b["employee_median"]) + rng.normal(0, 0.9, n))), 2, 50_000)
        web = np.isin(self.lead_source, WEB_SOURCES)
        self.lead_employees_known = ~(web & (rng.random(n) < 0.06))
        self.lead_region = rng.choice(len(REGIONS), n, p=REGION_MIX)
        self.lead_region_known = ~(web & (rng.random(n) < 0.04))
        self.lead_company = _company_names(rng, self.lead_industry)
        counterpart_known = rng.random(n) >= 0.12
        self.lead_department = _nullable(_choice(rng, COUNTERPART_DEPARTMENTS, n), ~counterpart_known)
        self.lead_title = _nullable(_choice(rng, COUNTERPART_TITLES, n), ~counterpart_known)
        self.lead_weight = (np.where(self.lead_target, planted.TARGET_CONVERSION_MULTIPLIER, 1.0)
                            * np.vectorize(SOURCE_SQL_WEIGHT.get)(self.lead_source) * b["sql_weight"])
        campaigns = pd.DataFrame(self.campaigns)
        self.tables["campaigns"] = {c: campaigns[c].to_numpy() for c in campaigns}
        spend = {k: np.concatenate([x[k] for x in self.spend]) for k in self.spend[0]}
        order = np.lexsort((spend["creative_id"].astype(str), spend["date"]))
        self.tables["ad_spend_daily"] = {k: v[order] for k, v in spend.items()}

    # --- touchpoints ------------------------------------------------------------------------------

    def _touchpoints(self) -> None:
        """Web and email behaviour of a subset of inbound leads (all SQLs), plus seminar attendance."""
        cal, rng = self.cal, self.rng
        n = self.n_leads
        created = self.lead_created
        sql = ~np.isnat(self.lead_qualified)
        tracked = sql | (~self.lead_outbound & (rng.random(n) < 0.6))
        k = np.where(tracked, 1 + rng.poisson(np.where(sql, 5.0, 2.0)), 0)
        i = np.repeat(np.arange(n), k)
        until = np.minimum(np.where(sql, self.lead_qualified, created + 40 * DAY), cal.end - SECOND)[i]
        when = np.minimum(created[i] - 10 * DAY + _td(rng.random(len(i)) * _days_between(created[i] - 10 * DAY, until)),
                          until)
        demo_p = np.where(sql[i], 0.2, 0.05)
        u = rng.random(len(i))
        kind = _labels(np.select([u < demo_p, u < demo_p + 0.2, u < demo_p + 0.3],
                         ["demo_link_click", "email_open", "email_click"],
                         "page_view"))
        pages = _choice(rng, tuple(SITE + page for page in PAGES), len(i))
        url = np.select([kind == "demo_link_click", kind == "email_open"],
                        [np.full(len(i), f"{SITE}/demo", dtype=object), np.full(len(i), None, dtype=object)], pages)
        url = self._utm_tagged(url, kind)
        attend = np.flatnonzero(~np.isnat(self.lead_event) & (self.lead_event < cal.end) & (rng.random(n) < 0.65))
        order = np.argsort(np.concatenate([when, self.lead_event[attend]]), kind="stable")
        self.tables["touchpoints"] = {
            "occurred_at": np.concatenate([when, self.lead_event[attend]])[order],
            "lead_id": self.lead_id[np.concatenate([i, attend])][order],
            "type": np.concatenate([kind, np.full(len(attend), "seminar_attend", dtype=object)])[order],
            "url": np.concatenate([url, np.full(len(attend), None, dtype=object)])[order],
        }

    def _utm_tagged(self, url: np.ndarray, kind: np.ndarray) -> np.ndarray:
        """Tag some touches with the campaign that brought them (utm_campaign), the way web analytics
        records them: retargeting page views and e-mail ad clicks. Multi-touch attribution reads these.
        Its own random stream, so the rest of the demo is the same with or without it."""
        rng = np.random.default_rng([self.seed, 7])
        url = url.copy()
        for touch, campaign, share in UTM_TOUCHES:
            hit = (kind == touch) & (rng.random(len(url)) < share)
            url[hit] = url[hit] + f"?utm_source=ads&utm_campaign={campaign}"
        return url
