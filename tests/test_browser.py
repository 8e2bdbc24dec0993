"""Every report, rendered from a lake whose names carry HTML and script payloads, opened in a real
headless Chromium (Debian's, installed by `make test`): nothing planted runs, every value shows as
text, no console errors, every chart image renders. Screenshots go to outputs/_screenshots/ for review."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, TEST_END
from pages import index_headlines
from revbook import periods
from revbook.data import load
from revbook.run import runner

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCRIPT = "<script>window.__pwned='script'</script>"
IMG = "<img src=x onerror=\"window.__pwned='img'\">"
QUOTES = "O'Brien \"Quote\" & Co"
SCREENSHOTS = ROOT / "outputs" / "_screenshots"
#: Secrets the runs see in their environment; neither may appear in any file a run writes.
SECRETS = {"SLACK_WEBHOOK_URL": "http://127.0.0.1:9/services/T0/B0/SECRET_HOOK_MARKER",
           "GOOGLE_APPLICATION_CREDENTIALS": "/etc/secret/SECRET_KEY_MARKER.json"}


@pytest.fixture(scope="module")
def hostile_outputs(demo_frames, tmp_path_factory) -> Path:
    """The small demo with payloads in account, campaign, rep and company names; monthly and daily runs."""
    frames = {name: frame.copy() for name, frame in demo_frames.items()}
    payloads = [SCRIPT, IMG, QUOTES]
    for i in range(len(frames["accounts"])):
        frames["accounts"].loc[i, "name"] = f"{payloads[i % 3]} 株式会社{i}"
    for i in range(6):
        frames["campaigns"].loc[i, "name"] = f"{payloads[i % 3]} campaign {i}"
    reps = frames["reps"]
    for rep, payload in (("FS01", SCRIPT), ("IS01", IMG), ("CS01", QUOTES), ("FS03", IMG)):
        reps.loc[reps["rep_id"] == rep, "name"] = f"{payload} {rep}"
    frames["leads"]["company_name"] = [f"{payloads[i % 3]} lead {i}" for i in range(len(frames["leads"]))]
    warehouse = tmp_path_factory.mktemp("hostile") / "hostile.duckdb"
    load.build_warehouse(frames, warehouse, {"source": "test", "note": "payloads"})
    out = tmp_path_factory.mktemp("hostile_out")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REVBOOK_WAREHOUSE", str(warehouse))
        mp.setenv("REVBOOK_OUTPUTS", str(out))
        for name, value in SECRETS.items():
            mp.setenv(name, value)
        assert runner.run("monthly", TEST_END) == 0
        assert runner.run("daily", periods.parse("month", TEST_END).last_day.isoformat()) == 0
    return out


def _pages(out: Path) -> list[Path]:
    return [out / "index.html", *sorted(p for p in out.glob("*/index.html")),
            *sorted(p for p in out.glob("*/*/*.html"))]


def test_payloads_are_escaped_in_the_html(hostile_outputs):
    pages = _pages(hostile_outputs)
    assert len(pages) >= 12
    shown = 0
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "<script>window.__pwned" not in html and "<img src=x onerror" not in html, page
        shown += html.count("&lt;script&gt;window.__pwned") + html.count("&lt;img src=x onerror")
    assert shown > 20  # the payloads are on the pages, as text


def test_no_secret_from_the_environment_is_written_anywhere(hostile_outputs):
    files = [p for p in hostile_outputs.rglob("*") if p.is_file()]
    assert any(p.suffix == ".ipynb" for p in files) and any(p.name == "run.log" for p in files)
    assert any(p.name == "manifest.json" for p in files) and any(p.suffix == ".csv" for p in files)
    for secret in ("SECRET_HOOK_MARKER", "SECRET_KEY_MARKER"):
        leaks = [str(p) for p in files if secret.encode() in p.read_bytes()]
        assert not leaks, f"{secret} in {leaks}"
    alerts = (hostile_outputs / periods.parse("month", TEST_END).last_day.isoformat() / "customer_success"
              / "early_alerts.html").read_text(encoding="utf-8")
    assert "Slack delivery failed (" in alerts  # delivery was tried and its failure reported


def test_every_page_in_chromium_runs_nothing_planted_and_renders_its_charts(hostile_outputs):
    from playwright.sync_api import sync_playwright

    pages = _pages(hostile_outputs)
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    problems, charts, headlines = [], 0, {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        context = browser.new_context(viewport={"width": 1200, "height": 900}, offline=True)
        for path in pages:
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc, e=errors: e.append(str(exc)))
            page.on("dialog", lambda d, e=errors: (e.append(f"dialog: {d.message}"), d.dismiss()))
            page.goto(path.as_uri(), wait_until="load")
            images = page.evaluate("() => [...document.images].map(i => [i.complete && i.naturalWidth > 0, "
                                   "i.src.slice(0, 40)])")
            pwned = page.evaluate("() => window.__pwned")
            name = "__".join(path.relative_to(hostile_outputs).with_suffix(".png").parts)
            page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
            broken = [src for ok, src in images if not ok]
            if path in (hostile_outputs / "index.html", hostile_outputs / TEST_END / "index.html"):
                headlines[path] = [tuple(c.strip() for c in row.split("\t")) for row in
                                   page.locator("table.rb-headlines").inner_text().splitlines()[1:] if "\t" in row]
            if errors or pwned is not None or broken:
                problems.append(f"{path.relative_to(hostile_outputs)}: errors={errors} pwned={pwned} broken={broken}")
            charts += len(images)
            page.close()
        browser.close()
    assert not problems, "\n".join(problems)
    expected = index_headlines(hostile_outputs / TEST_END)
    shown = [(label, value, previous, vs_previous[0], target, vs_target[0])  # as the reader sees the numbers
             for _, label, value, previous, vs_previous, target, vs_target in expected]
    assert len(headlines) == 2 and all(rows == shown for rows in headlines.values()), headlines
    assert charts >= 20  # the monthly reports' charts, each one decoded and drawn
    assert len(list(SCREENSHOTS.glob("*.png"))) == len(pages)


def test_japanese_in_a_page_renders_from_the_page_itself(hostile_outputs):
    """This machine has no Japanese system font: a page's Japanese text must render from the glyphs the
    page embeds (revbook.pages.fonts), pixel for pixel as the embedded font draws them, not as tofu."""
    from playwright.sync_api import sync_playwright

    fonts = subprocess.run(["fc-list", ":lang=ja"], capture_output=True, text=True) if shutil.which("fc-list") else None
    if fonts is None or fonts.stdout.strip():
        pytest.skip("needs a machine without a Japanese system font (fontconfig's fc-list :lang=ja lists none)")
    path = next(p for p in _pages(hostile_outputs) if "株式会社" in p.read_text(encoding="utf-8"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_context(viewport={"width": 1366, "height": 900}, offline=True).new_page()
        page.goto(path.as_uri(), wait_until="load")
        page.evaluate("""() => document.fonts.ready.then(() => {
            for (const [id, font] of [["page", ""], ["embedded", "revbook-ja"], ["system", "serif"]]) {
                const s = document.createElement("span");
                s.id = id; s.textContent = "株式会社"; s.style.fontSize = "32px";
                if (font) s.style.fontFamily = font;
                document.body.prepend(s);
            }
        })""")
        shots = {i: page.locator(f"#{i}").screenshot() for i in ("page", "embedded", "system")}
        browser.close()
    assert shots["page"] != shots["system"]  # not the tofu the machine's own fonts draw
    assert shots["page"] == shots["embedded"]  # but the glyphs the page embeds


#: Per page at 1366 px: the page and any element that scrolls sideways (wider content than its box),
#: and every image's alt text.
_FIT = """() => {
    const wide = [], width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > width) wide.push(`page ${document.documentElement.scrollWidth}px`);
    for (const el of document.body.querySelectorAll("*")) {
        const x = getComputedStyle(el).overflowX;
        if ((x === "auto" || x === "scroll") && el.scrollWidth > el.clientWidth + 1)
            wide.push(`${el.tagName.toLowerCase()}.${el.className} ${el.scrollWidth}px in ${el.clientWidth}px: ` +
                      el.textContent.trim().slice(0, 60));
    }
    return {wide, alts: [...document.images].map(i => i.getAttribute("alt") || "")};
}"""


def test_every_page_fits_1366_px_and_every_chart_says_what_it_shows(hostile_outputs):
    """A department head's laptop: no page and no table on it scrolls sideways (long names included:
    the payload lake's are long), and a reader who cannot see a chart gets a sentence, not a stock
    "No description has been provided for this image"."""
    from playwright.sync_api import sync_playwright

    problems, alts = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1366, "height": 900}, offline=True)
        for path in _pages(hostile_outputs):
            page = context.new_page()
            page.goto(path.as_uri(), wait_until="load")
            found = page.evaluate(_FIT)
            page.close()
            name = path.relative_to(hostile_outputs)
            problems += [f"{name}: {w}" for w in found["wide"]]
            problems += [f"{name}: image alt {a!r}" for a in found["alts"]
                         if len(a.split()) < 4 or "No description" in a]
            alts += found["alts"]
        browser.close()
    assert not problems, "\n".join(problems)
    assert len(alts) >= 20
