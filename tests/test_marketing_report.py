"""The rendered campaign ROI report, and marts doing the heavy work in the warehouse."""

import pandas as pd
import pytest

from conftest import ROOT, TEST_END
from pages import assert_headlines, assert_stakeholder_page
from revbook import periods, settings
from revbook.data.duckdb_engine import DuckDBWarehouse
from revbook.departments import marketing, sales_ops, targets


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
    path = out / "marketing" / "campaign_roi.html"
    assert_headlines(path, marketing.headlines(now, before, plan))
    page = assert_stakeholder_page(path)
    for section in ("Channels", "Platforms", "Campaigns", "Cheaper but off target", "Creatives", "Lead sources",
                    "Industries", "Lead cohorts", "Budget", "How leads are credited"):
        assert f">{section}<a" in page.body, section
    assert "square root of its spend" in page.body  # the budget view states its assumption


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
