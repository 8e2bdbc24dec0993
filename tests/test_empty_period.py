"""A period with no data at all (before the company's first lead) renders every report with its
"no data" sections instead of failing."""

import re

from conftest import TEST_END
from revbook import periods
from revbook.run import runner


def _text(path):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")))


def test_every_report_renders_for_a_period_before_the_data(demo_warehouse, tmp_path, monkeypatch):
    month = periods.parse("month", TEST_END).shift(-30)  # the demo holds 24 months
    monkeypatch.setenv("REVBOOK_WAREHOUSE", str(demo_warehouse))
    monkeypatch.setenv("REVBOOK_OUTPUTS", str(tmp_path))
    assert runner.run("monthly", month.label) == 0
    assert runner.run("daily", month.last_day.isoformat()) == 0
    out = tmp_path / month.label
    assert "No churn model this month" in _text(out / "customer_success" / "churn_drivers.html")
    assert "No deals with a first meeting closed in this period" in _text(out / "inside_sales" / "funnel.html")
    daily = _text(tmp_path / month.last_day.isoformat() / "customer_success" / "early_alerts.html")
    assert "No product usage before" in daily and "No alerts today" in daily
    assert "Ending MRR" in _text(out / "sales_ops" / "revenue_overview.html")
