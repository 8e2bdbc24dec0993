"""The monthly run and the rendered revenue overview: the numbers lib computes, no code, working links."""

import datetime as dt
import json
import re
from urllib.parse import urlparse

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from conftest import TEST_END, make_db
from pages import Page, assert_headlines, assert_stakeholder_page
from revbook import metrics, periods, settings
from revbook.data import coverage
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.departments import sales_ops
from revbook.pages import charts, revenue_overview
from revbook.pages.report import fmt


@pytest.fixture(scope="module")
def lib_overview(demo_warehouse):
    with DuckDBWarehouse(demo_warehouse) as wh:
        return sales_ops.overview(wh, periods.parse("month", TEST_END), 12)


def test_run_succeeds(monthly_run):
    code, out = monthly_run
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    entry = manifest["reports"]["sales_ops/revenue_overview"]
    assert entry["status"] == "ok" and entry["parameters"]["period"] == TEST_END
    assert manifest["last_run"]["data_fingerprint"] not in ("", "unknown")


def test_html_shows_the_headlines_lib_computes(monthly_run, lib_overview):
    _, out = monthly_run
    path = out / "sales_ops" / "revenue_overview.html"
    assert_headlines(path, lib_overview.headlines())
    summary = revenue_overview.summary(lib_overview).replace("**", "").replace("\\", "")
    assert summary.split(" (")[0] in re.sub(r"</?strong>", "", path.read_text())  # the opening sentence


def test_html_has_no_code_no_prompts_no_scripts(monthly_run):
    _, out = monthly_run
    assert_stakeholder_page(out / "sales_ops" / "revenue_overview.html")


def test_index_links_resolve(monthly_run):
    _, out = monthly_run
    top = out.parent / "index.html"
    reports = [out / "sales_ops" / "revenue_overview.html", out / "marketing" / "campaign_roi.html"]
    for index in (top, out / "index.html", *reports):
        links = [h for h in Page(index).links if not urlparse(h).scheme and not h.startswith("#")]
        assert links, index
        for href in links:  # a link to a definition names its file before the '#'
            assert (index.parent / urlparse(href).path).resolve().is_file(), f"{index}: broken link {href}"
    index = (out / "index.html").read_text()
    assert "sales_ops/revenue_overview.html" in index and "marketing/campaign_roi.html" in index


NOV, OCT = dt.date(2026, 11, 1), dt.date(2026, 10, 1)


def _overview(plan: dict[str, float]) -> sales_ops.RevenueOverview:
    """Two hand-made months: October, then November (the period), with `plan` as November's targets."""
    movements = pd.DataFrame({
        "month": [OCT, NOV], "starting_mrr": [1_000_000.0, 1_050_000.0], "new_mrr": [150_000.0, 400_000.0],
        "expansion_mrr": [20_000.0, 30_000.0], "contraction_mrr": [10_000.0, 20_000.0],
        "churned_mrr": [110_000.0, 60_000.0], "reactivation_mrr": [0.0, 10_000.0],
        "ending_mrr": [1_050_000.0, 1_410_000.0], "customers_start": [100, 104], "churned_customers": [2, 1],
        "new_leads": [100.0, 200.0], "meetings": [10.0, 20.0], "opportunities": [8.0, 10.0],
        "won_deals": [2.0, 4.0], "won_mrr": [150_000.0, 400_000.0],
        # the customers paying 12 month ends before: their MRR then, now capped at then, and now
        "t12m_base_mrr": [900_000.0, 950_000.0], "t12m_kept_mrr": [800_000.0, 855_000.0],
        "t12m_retained_mrr": [880_000.0, 969_000.0]})
    wide = pd.DataFrame([plan], index=[NOV]) if plan else pd.DataFrame(index=pd.Index([], name="month"))
    return sales_ops.RevenueOverview(periods.parse("month", "2026-11"), metrics.revenue_kpis(movements), wide)


PLAN = {"new_leads": 160.0, "meetings": 80.0, "opportunities": 40.0, "won_deals": 20.0, "average_deal_size": 50_000.0,
        "new_mrr": 900_000.0, "ending_mrr": 1_500_000.0}


def _plain(markdown: str) -> str:
    return markdown.replace("\\", "").replace("**", "")


def test_the_funnel_shows_one_new_mrr_target_the_plans_own():
    overview = _overview(PLAN)
    steps = overview.funnel_steps().set_index("step")
    assert list(steps.index) == list(sales_ops.FUNNEL_STEPS)
    assert steps["this_month"].tolist() == pytest.approx([200, 0.1, 0.5, 0.4, 100_000, 400_000])
    assert steps["previous_month"].tolist() == pytest.approx([100, 0.1, 0.8, 0.25, 75_000, 150_000])
    # step targets: 160 leads, 80 ÷ 160, 40 ÷ 80, 20 ÷ 40, ¥50,000; new MRR is the plan's ¥900,000, not 20 × ¥50,000
    assert steps["funnel_target"].tolist() == pytest.approx([160, 0.5, 0.5, 0.5, 50_000, 900_000])
    assert overview.new_mrr_target() == 900_000 and overview.target_funnel_gap() == pytest.approx(100_000)
    yen = settings.company().currency_symbol
    table = revenue_overview.funnel_table(overview)
    assert table.iloc[-1].tolist() == ["new_revenue", f"{yen}400,000", f"{yen}150,000", f"{yen}900,000"]
    sentence = _plain(revenue_overview.funnel_sentence(overview))
    assert sentence.startswith(f"The funnel brought {yen}400,000 of new MRR, 55.6% under the plan's {yen}900,000 "
                               "(targets table, new_mrr for 2026-11): 4 won deals (plan 20)")
    assert f"multiply to {yen}100,000 more than its new-MRR target" in sentence and "1,000,000" not in sentence


def test_without_a_plan_the_funnels_targets_are_unknown_not_zero():
    overview = _overview({})
    assert overview.funnel_steps()["funnel_target"].isna().all() and overview.target_funnel_gap() is None
    assert revenue_overview.funnel_table(overview)["funnel_target"].tolist() == ["n/a"] * 6
    assert "a plan (no new-MRR target in the targets table)" in revenue_overview.funnel_sentence(overview)


def test_the_bridge_stands_its_totals_on_zero_and_its_movements_on_their_own_scale():
    overview = _overview(PLAN)
    bridge = overview.bridge()
    assert bridge["bridge_mrr"].tolist() == [1_050_000, 400_000, 30_000, -20_000, -60_000, 10_000, 1_410_000]
    fig = charts.waterfall(bridge["step"], bridge["bridge_mrr"], "MRR bridge")
    totals, moves = fig.axes
    assert totals.get_ylim()[0] == 0 and [p.get_height() for p in totals.patches] == [1_050_000, 1_410_000]
    floats = [edge for p in moves.patches for edge in (p.get_y(), p.get_y() + p.get_height())]
    # new 0 → 400k, expansion → 430k, contraction 410k–430k, churn 350k–410k, reactivation → 360k; net 0 → 360k
    assert floats == pytest.approx([0, 4e5, 4e5, 4.3e5, 4.1e5, 4.3e5, 3.5e5, 4.1e5, 3.5e5, 3.6e5, 0, 3.6e5])
    assert moves.get_ylim()[0] <= 0 and [t.get_text() for t in moves.get_xticklabels()][-1] == "Net change"
    plt.close(fig)
    yen = settings.company().currency_symbol
    assert _plain(revenue_overview.bridge_sentence(bridge)) == (
        f"MRR grew by {yen}360,000 (+34.3%) to {yen}1,410,000: new {yen}400,000, expansion {yen}30,000, "
        f"reactivation {yen}10,000 added; churn {yen}60,000, contraction {yen}20,000 took away.")


def test_the_trend_and_retention_sentences_say_what_happened():
    overview = _overview(PLAN)
    yen = settings.company().currency_symbol
    assert _plain(revenue_overview.mrr_sentence(overview)) == (
        f"Ending MRR {yen}1,410,000, +34.3% on the month and 6.0% under plan; it grew every month since 2026-10 "
        "(+34.3%).")
    retention = overview.retention()
    assert list(retention.columns) == ["month", "customer_churn", "net_revenue_churn", "month_grr", "month_nrr",
                                       "t12m_grr", "t12m_nrr"]
    # November: 1 of 104 churned; (60k + 20k − 30k) ÷ 1,050k = 4.8% net revenue churn; GRR 1 − 80k ÷ 1,050k;
    # trailing 12 months: GRR 855k ÷ 950k = 90.0%, NRR 969k ÷ 950k = 102.0%
    assert _plain(revenue_overview.retention_sentence(retention)) == (
        "Customer churn 1.0% this month (between 1.0% and 2.0% over the 2 months); net revenue churn 4.8%, "
        "monthly GRR 92.4%; monthly NRR 95.2%, above 100% in 0 of 2 months. Over the trailing 12 months GRR is "
        "90.0% and NRR 102.0% (the customers paying 12 months ago: their MRR now ÷ their MRR then).")


def test_a_page_whose_data_stops_mid_month_says_so(tmp_path):
    leads = pd.DataFrame({"created_at": pd.to_datetime(["2026-11-02 09:00", "2026-11-17 18:30"])})
    subs = pd.DataFrame({"start_date": [dt.date(2026, 11, 9)], "end_date": [dt.date(2027, 3, 31)]})
    month = periods.parse("month", "2026-11")
    with DuckDBWarehouse(make_db(tmp_path / "w.duckdb", {"leads": leads, "subscriptions": subs})) as wh:
        through = coverage.data_through(wh, sales_ops.DATED_COLUMNS)
    assert through == dt.date(2026, 11, 17)  # the latest table's last day; a contract's future end does not count
    assert _plain(revenue_overview.data_note(through, month)).startswith(
        "Data runs to 2026-11-17; the month is incomplete (it ends 2026-11-30)")
    assert revenue_overview.data_note(dt.date(2026, 11, 27), month) == ""  # a quiet weekend at the end is no gap
    assert sales_ops.incomplete(dt.date(2026, 11, 26), month) and not sales_ops.incomplete(None, month)
    with DuckDBWarehouse(make_db(tmp_path / "empty.duckdb", {"targets": pd.DataFrame({"month": [NOV]})})) as wh:
        assert coverage.data_through(wh, sales_ops.DATED_COLUMNS) is None


def test_the_page_names_one_new_mrr_target_explains_its_charts_and_ends_with_definitions(monthly_run, lib_overview):
    _, out = monthly_run
    text = (out / "sales_ops" / "revenue_overview.html").read_text(encoding="utf-8")
    target, product = lib_overview.new_mrr_target(), lib_overview.target_funnel().new_revenue
    assert target is not None and product != target
    headline = re.search(r"<th>New MRR</th>(.*?)</tr>", text).group(1)
    funnel_end = re.search(r">= new MRR</td>(.*?)</tr>", text).group(1)
    for row in (headline, funnel_end):  # the headline and the funnel's last row: the same target, not the product
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
        assert fmt(target, "money") in cells and fmt(product, "money") not in cells
    assert "(targets table, new_mrr for" in re.sub(r"<[^>]+>|\\", "", text)
    alts = re.findall(r'<img[^>]* alt="([^"]+)"', text)
    assert len(alts) == 3 and alts[0].startswith("MRR bridge for") and "as bars from 0" in alts[0]
    headings = re.findall(r"<h2[^>]*>(.*?)<", text)
    assert headings[-1] == "Definitions" and "Retention" in headings
    assert "Data runs to" not in text  # the demo's data reaches the month's last day
