"""The rendered campaign ROI report, its charts and sentences, and marts doing the heavy work in the warehouse."""

import datetime as dt
import itertools
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from conftest import ROOT, TEST_END  # noqa: E402
from pages import assert_headlines, assert_stakeholder_page  # noqa: E402
from revbook import periods, settings  # noqa: E402
from revbook.data.duckdb_engine import DuckDBWarehouse  # noqa: E402
from revbook.departments import marketing, sales_ops, targets  # noqa: E402
from revbook.pages import campaign_roi as page  # noqa: E402

ECON = sales_ops.Economics(gross_margin=0.8, monthly_churn=0.01, arpa=50_000.0)


class CountingWarehouse(DuckDBWarehouse):
    """Counts the rows every query brings back into Python."""

    rows: list[int]

    def query(self, sql, params=None) -> pd.DataFrame:
        frame = super().query(sql, params)
        self.rows.append(len(frame))
        return frame


def test_html_shows_the_headlines_lib_computes(monthly_run, demo_warehouse):
    _, out = monthly_run
    company, month = settings.company(), periods.parse("month", TEST_END)
    with DuckDBWarehouse(demo_warehouse) as wh:
        campaigns = wh.mart("campaigns")
        now, before = (marketing.window(wh, m.start, m.end, "first_touch", company.target_industries, campaigns)
                       for m in (month, month.previous()))
        plan = targets.for_month(targets.monthly(wh, "marketing", [month.start]), month.start)
        bases = [marketing.basis(wh, m, company) for m in (month, month.previous())]
    path = out / "marketing" / "campaign_roi.html"
    assert_headlines(path, marketing.headlines(now, before, plan, *bases))
    page = assert_stakeholder_page(path)
    for section in ("Channels", "Platforms", "Campaigns", "Cheaper but off target", "Creatives", "Lead sources",
                    "Industries", "Lead cohorts", "Budget", "Definitions"):
        assert f">{section}<a" in page.body, section
    assert "square root of its spend" in page.body  # the budget view states its assumption
    assert "ROAS and ROI count the paid channels only" in page.body  # paid_channels, and what is shown apart
    assert "CAC = paid-channel spend ÷ their won deals" in page.body  # cac_includes_sales_cost: false


def test_marts_do_the_heavy_work_in_the_warehouse(scale1_warehouse):
    """At scale 1 (28,801 leads, 15,756 ad-spend rows) no query returns more than a few hundred rows."""
    company, month = settings.company(), periods.parse("month", TEST_END)
    wh = CountingWarehouse(scale1_warehouse)
    wh.rows = []
    campaigns = wh.mart("campaigns")
    for model in marketing.ATTRIBUTION_MODELS:
        marketing.window(wh, month.shift(-11).start, month.end, model, company.target_industries, campaigns)
    marketing.cohorts(wh, month, 12, company.target_industries)
    marketing.industries(wh, month, 12, company.target_industries)
    sales_ops.economics(wh, month, company.gross_margin)
    wh.close()
    assert max(wh.rows) < 300, wh.rows


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").rglob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_use_marts_not_raw_queries(path):
    source = path.read_text(encoding="utf-8")
    assert ".query(" not in source and "read_parquet" not in source and "read_csv" not in source


def frame(rows: list[dict]) -> pd.DataFrame:
    """Campaign-table rows from their counts (every other count 0), with every metric."""
    return marketing.add_metrics(pd.DataFrame([{**dict.fromkeys(marketing.COUNTS, 0.0), **r} for r in rows]), ECON)


def plain(markdown: str) -> str:
    return markdown.replace("\\", "")  # md() escapes Markdown punctuation in data values


CHANNELS = [
    {"channel": "listing_ads", "cost": 1000.0, "leads": 10.0, "target_leads": 4.0, "won": 1.0, "won_mrr": 100.0},
    {"channel": "webinar", "cost": 100.0, "leads": 5.0, "target_leads": 4.0, "won": 1.0, "won_mrr": 200.0},
    {"channel": "organic", "leads": 20.0, "target_leads": 10.0, "won": 2.0},
    {"channel": "(none)", "leads": 30.0},
]


def test_the_channel_sentence_names_most_leads_most_spend_cheapest_target_lead_and_best_roas():
    # organic: 20 of 65 leads (30.8%), free; listing ads: ¥1,000 of ¥1,100 (90.9%) at ¥100 a lead;
    # per target lead ¥250 (listing) vs ¥25 (webinar); ROAS 1,200 ÷ 1,000 = 1.20× vs 2,400 ÷ 100 = 24.00×
    assert plain(page.channels_sentence(frame(CHANNELS))) == (
        "Organic brought the most leads (20, 30.8% of all) at no spend; Listing ads took the most spend "
        "(90.9%, ¥100 a lead); Webinar was the cheapest per target lead (¥25) and returned the most per yen "
        "(ROAS 24.00× on first-year revenue).")
    rich = frame([{**CHANNELS[0], "won_mrr": 10_000.0}, *CHANNELS[1:]])  # listing: ROAS 120,000 ÷ 1,000
    assert plain(page.channels_sentence(rich)).endswith(
        "Webinar was the cheapest per target lead (¥25) and Listing ads returned the most per yen "
        "(ROAS 120.00× on first-year revenue).")
    assert page.channels_sentence(frame(CHANNELS[3:])) == "No leads came from a campaign in the window."


def test_the_target_share_sentence_compares_windows_and_places_the_cheapest_big_campaign():
    campaigns = frame([
        {"campaign_id": "BIG", "name": "SNS_X", "cost": 100_000.0, "leads": 100.0, "target_leads": 9.0},
        {"campaign_id": "MID", "name": "展示会", "cost": 500_000.0, "leads": 200.0, "target_leads": 100.0},
        {"campaign_id": "TINY", "name": "Webinar", "cost": 1_000.0, "leads": 10.0, "target_leads": 1.0},
    ])
    assert plain(page.target_share_sentence(campaigns, 0.454, 0.475)) == (
        "45.4% of the window's leads were in a target industry, against 47.5% in the window before; the cheapest "
        "campaign per lead of those with at least 100 leads, BIG SNS_X (¥1,000), had 9.0% target leads, the "
        "lowest of them.")  # TINY is cheaper (¥100 a lead) but has too few leads to be judged


def test_the_spenders_sentence_sums_the_top_spenders_share():
    creatives = frame([
        {"campaign_id": "EX", "creative_id": marketing.NO_CREATIVE, "name": "展示会", "cost": 600.0, "leads": 6.0},
        {"campaign_id": "AD", "creative_id": "AD-C1", "name": "SNS", "cost": 300.0, "leads": 30.0,
         "target_leads": 3.0},
        {"campaign_id": "AD", "creative_id": "AD-C2", "name": "SNS", "cost": 100.0, "leads": 1.0},
    ])
    assert plain(page.spenders_sentence(creatives, 2, "creative")) == (
        "The 2 creatives spending most took 90.0% of the window's spend; 展示会 spent most (¥600, ¥100 a lead, "
        "0.0% target leads).")
    assert plain(page.spenders_sentence(creatives.iloc[1:], 1, "creative")).startswith(
        "The 1 creatives spending most took 75.0% of the window's spend; SNS creative AD-C1 spent most (¥300")


def test_off_target_sentences_name_each_flagged_row_or_say_none():
    flagged = pd.DataFrame([{"campaign_id": "AD06", "creative_id": "AD06-C1", "name": "SNS_X_ギフト券", "cpl": 1838.0,
                             "median_cpl": 5000.0, "target_share": 0.09, "overall_target_share": 0.45,
                             "opportunity_rate": 0.01, "overall_opportunity_rate": 0.03}])
    assert [plain(s) for s in page.off_target_sentences(flagged, "creative")] == [
        "**Cheaper but off target (creative): AD06 / AD06-C1 SNS_X_ギフト券** — CPL ¥1,838 (median ¥5,000), but "
        "only 9.0% target leads (overall 45.0%) and an opportunity rate of 1.0% (overall 3.0%)."]
    none = page.off_target_sentences(flagged.iloc[:0], "campaign")
    assert none == ["No campaign is cheaper but off target in this window."]


def test_the_sources_sentence_names_the_biggest_source_and_the_best_converting_one():
    sources = pd.DataFrame({"lead_source": ["document_request", "referral", "trial"], "leads": [300, 50, 0],
                            "target_leads": [120, 30, 0], "opportunities": [6, 5, 0]})
    assert plain(page.sources_sentence(sources)) == (
        "Document request brought the most leads (300, 85.7% of all, 40.0% target leads); Referral made the most "
        "opportunities per lead (5 from 50 leads, 10.0%).")


def test_the_cohort_sentence_reads_the_youngest_cohort_against_its_usual_completeness():
    cohorts = pd.DataFrame({"month": [dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)],
                            "leads": [100, 120, 90], "first_year_revenue": [1_200_000.0, 2_400_000.0, 0.0],
                            "completeness": [1.0, 0.96, 0.0]})
    assert plain(page.cohorts_sentence(cohorts)) == (
        "The youngest cohort, 2026-11 (90 leads), has won ¥0 so far, where leads that young have usually closed "
        "0.0% of their revenue; of the cohorts that are (nearly) complete, 2026-10 won most (¥2,400,000 from "
        "120 leads).")


def test_the_budget_sentence_says_which_channels_grow_and_shrink_within_the_step():
    channels = pd.DataFrame({"channel": ["search", "social", "print"], "cost": [100.0, 100.0, 100.0],
                             "ltv_revenue": [300.0, 100.0, 0.0]})  # ±50%: search +50, social 0, print −50
    assert plain(page.budget_sentence(marketing.reallocation(channels, 0.5), 0.5)) == (
        "Moving no channel by more than ±50% this step (budget_step), the split would grow **Search (+¥50)** "
        "and shrink **Print (−¥50)**.")


@pytest.fixture()
def shown(monkeypatch):
    """The figures the page functions show, with their alt texts."""
    figures: list[tuple[str, plt.Figure]] = []
    monkeypatch.setattr(page.charts, "show", lambda alt, fig=None: figures.append((alt, fig or plt.gcf())))
    yield figures
    plt.close("all")


def test_charts_label_axes_ticks_and_legends_from_the_vocabulary(shown):
    page.sources_chart(pd.DataFrame({"lead_source": ["document_request", "contact_form"], "leads": [10, 5],
                                     "target_leads": [4, 2], "opportunities": [1, 1]}), "2026-01 to 2026-11")
    budget = marketing.reallocation(frame(CHANNELS).assign(ltv_revenue=[300.0, 100.0, 0.0, 0.0]), 0.5)
    page.budget_chart(budget, "2026-01 to 2026-11")
    (sources_alt, sources_fig), (budget_alt, budget_fig) = shown
    ax = sources_fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Document request", "Contact form"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Leads", "Target leads", "Opportunities"]
    assert sources_alt == "Leads, target leads and opportunities for each of 2 lead sources, 2026-01 to 2026-11"
    ax = budget_fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Webinar", "Listing ads"]  # with spend, gainer first
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Spend share", "LTV value share"]
    assert "2 channels with spend" in budget_alt


def test_the_cpl_chart_labels_only_top_spenders_and_no_two_labels_overlap(shown):
    # 12 campaigns in a tight cluster: labels must move apart or be left out, never overprint
    campaigns = frame([{"campaign_id": f"AD{i:02d}", "name": f"n{i}", "cost": 1000.0 * (20 - i),
                        "leads": 10.0 + i * 0.01, "target_leads": 5.0} for i in range(12)]
                      + [{"campaign_id": "FREE", "name": "organic", "leads": 50.0}])
    page.cpl_chart(campaigns, "2026-01 to 2026-11", labelled=8)
    alt, fig = shown[0]
    ax = fig.axes[0]
    labels = ax.texts
    names = [t.get_text() for t in labels]
    assert names and set(names) <= {f"AD{i:02d}" for i in range(8)}  # only the 8 biggest spenders, no FREE
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert not any(a.overlaps(b) for a, b in itertools.combinations(boxes, 2))
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("CPL", "Target share")
    assert alt.startswith("Cost per lead against target-lead share for 12 paid campaigns, 2026-01 to 2026-11")


def test_the_page_fits_its_tables_offers_full_lists_and_defines_at_the_foot(monthly_run):
    _, out = monthly_run
    path = out / "marketing" / "campaign_roi.html"
    body = assert_stakeholder_page(path).body
    tables = re.findall(r'<table class="rb-table[^"]*">(?:<caption>([^<]*)</caption>)?<thead><tr>(.*?)</tr>'
                        r"</thead><tbody>(.*?)</tbody>", body, flags=re.S)
    assert tables
    for caption, head, rows in tables:
        assert head.count("<th") <= 10, caption  # no table of 24 columns again
        if "per campaign" in caption or "per creative" in caption:
            assert rows.count("<tr>") <= 15, caption
    for name in ("campaigns", "campaign_return", "creatives", "creative_return"):
        csv = pd.read_csv(path.with_name(f"campaign_roi.{name}.csv"))  # every row, under the same headers
        assert list(csv.columns[:2]) == ["Campaign" if name.startswith("campaign") else "Creative", "Name"], name
        assert f"campaign_roi.{name}.csv" in body
    for raw in ("listing_ads", "document_request", "target_leads", "spend_share", ">True<", ">False<"):
        assert raw not in body, raw  # tables and charts speak the vocabulary
    assert body.index(">Headline numbers<") < body.index(">Channels<") < body.index(">Definitions<")
    foot = body[body.index(">Definitions<"):]
    assert "How leads are credited" in foot and "LTV basis this month" in foot
    assert body.count("square root of its spend") == 1  # the budget's assumption, stated once
    assert 'alt="Cost per lead against target-lead share' in body


def test_without_ad_spend_the_sentences_say_spend_is_unknown_not_zero():
    unknown = frame(CHANNELS).assign(cost=float("nan"), impressions=float("nan"))
    assert plain(page.channels_sentence(unknown)) == (
        "Organic brought the most leads (20, 30.8% of all); spend is unknown without ad spend (ad_spend_daily).")
    assert page.platforms_sentence(unknown.assign(platform="—")) == (
        "Ad delivery and spend are unknown without ad spend (ad_spend_daily).")
    campaigns = unknown.assign(campaign_id="C1", name="n")
    assert page.spenders_sentence(campaigns, 15, "campaign") == (
        "Spend per campaign is unknown without ad spend (ad_spend_daily).")
    cohorts = pd.DataFrame({"month": [dt.date(2026, 11, 1)], "leads": [5], "first_year_revenue": [0.0],
                            "completeness": [None]})
    assert "how much usually closes by that age is n/a" in page.cohorts_sentence(cohorts)
