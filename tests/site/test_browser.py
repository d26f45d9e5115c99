"""The site in a real browser: headless Chromium, driven by Selenium, on pages opened from file://.

scripts/setup.sh installs Debian's chromium and chromium-driver and vendors axe-core from npm into
tests/site/.npm. If either is missing these tests fail; they never skip. With PLAN_COMPLIANCE_REPORT_IMAGES=DIR
the screenshots go to DIR (docs/report-images/ is made so), otherwise to a temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from tests.helpers import ROOT, clean_plan

AXE = ROOT / "tests" / "site" / ".npm" / "node_modules" / "axe-core" / "axe.min.js"
DIA = ROOT / "rules" / "scenarios" / "dia-final-2027.yaml"
AS_OF = "2026-11-22"


def _book(folder: Path) -> list[Path]:
    """The example plans and a few variants: other recordkeepers, missing facts, a window, a costly class."""
    folder.mkdir()
    plans = [Path(shutil.copy(ROOT / "examples" / "acme-401k.yaml", folder / "acme-401k.yaml")),
             Path(shutil.copy(ROOT / "examples" / "plan-repo" / "plans" / "northwind-401k.yaml",
                              folder / "northwind-401k.yaml"))]
    variants = [("Harbor Freight Lines 401(k) Plan", "Keeper One", lambda p: p["menu"][0].pop("diversified")),
                ("Blue Ridge Dental 401(k) Plan", "Keeper Two", lambda p: p["governance"].pop("disclosures")),
                ("Cedar Valley Schools 403(b) Plan", "Keeper One",
                 lambda p: p.update(brokerage_window={"offered": True, "fees_disclosed": True})),
                ("Orchard Health 401(k) Plan", None, lambda p: p["menu"][1].pop("due_diligence")),
                ("Summit Tooling <Retirement> & Savings Plan", "Keeper Two", lambda p: None)]
    for i, (name, keeper, change) in enumerate(variants):
        plan = clean_plan()
        plan["plan"]["name"] = name
        if keeper:
            plan["plan"]["recordkeeper"] = {"name": keeper}
        change(plan)
        path = folder / f"plan-{i}.yaml"
        path.write_text(yaml.safe_dump(plan, sort_keys=False))
        plans.append(path)
    return plans


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from click.testing import CliRunner

    from compliance.cli import cli

    work = tmp_path_factory.mktemp("browser")
    plans = _book(work / "book")
    runner = CliRunner()
    made = runner.invoke(cli, ["report", str(work / "book"), "--as-of", AS_OF, "--scenario", str(DIA),
                               "-o", str(work / "site")], catch_exceptions=False)
    assert made.exit_code == 0, made.stderr
    checked = runner.invoke(cli, ["check", *map(str, plans), "--as-of", AS_OF, "--format", "json",
                                  "--fail-on", "never"], catch_exceptions=False)
    return work / "site", json.loads(checked.stdout)


@pytest.fixture(scope="module")
def browser():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "Chromium and its driver are missing: run scripts/setup.sh (apt-get install " \
                                "chromium chromium-driver)"
    assert AXE.is_file(), f"axe-core is missing at {AXE}: run scripts/setup.sh (it installs it with npm)"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,1000", "--force-device-scale-factor=1"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    with webdriver.Chrome(service=Service(executable_path=driver), options=options) as chrome:
        yield chrome


def _open(chrome, page: Path) -> None:
    chrome.get_log("performance")  # start each page with empty logs
    chrome.get_log("browser")
    chrome.get(page.as_uri())


def _clean_load(chrome) -> None:
    """No console error (a blocked script or style would be one), and no request but for file: and data: URLs."""
    errors = [e for e in chrome.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    requests = [json.loads(e["message"])["message"] for e in chrome.get_log("performance")]
    urls = [m["params"]["request"]["url"] for m in requests if m["method"] == "Network.requestWillBeSent"]
    assert urls and all(u.startswith(("file://", "data:")) for u in urls), urls


def _axe(chrome) -> list[dict]:
    chrome.execute_script(AXE.read_text(encoding="utf-8"))
    result = chrome.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations), e => done([{impact: 'critical', id: String(e)}]));")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n.get("target") for n in v.get("nodes", [])][:3]}
            for v in result if v["impact"] in ("serious", "critical")]


def _rows(chrome) -> list:
    return chrome.find_elements(By.CSS_SELECTOR, "#plan-table tbody tr")


def _screenshot(chrome, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("PLAN_COMPLIANCE_REPORT_IMAGES") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    height = chrome.execute_script("return document.documentElement.scrollHeight")
    chrome.set_window_size(1280, min(height, 2400))
    assert chrome.save_screenshot(str(folder / name))
    chrome.set_window_size(1280, 1000)
    assert (folder / name).read_bytes().startswith(b"\x89PNG")


def test_overview_loads_clean_counts_match_json_and_axe_finds_nothing_serious(site, browser, tmp_path):
    folder, checked = site
    _open(browser, folder / "index.html")
    _clean_load(browser)
    by_file = {p["file"]: p["counts"] for p in checked["plans"]}
    rows = _rows(browser)
    assert len(rows) == len(by_file) == 7
    for row in rows:
        file = row.find_element(By.CSS_SELECTOR, ".file").text
        shown = {cell.get_attribute("data-count"): int(cell.text)
                 for cell in row.find_elements(By.CSS_SELECTOR, "td[data-count]")}
        assert shown == {k: by_file[file][k] for k in shown}, file
    totals = {el.get_attribute("data-total"): int(el.text) for el in browser.find_elements(By.CSS_SELECTOR, "[data-total]")}
    assert totals.pop("plans") == len(by_file)
    assert totals == {k: sum(c[k] for c in by_file.values()) for k in totals}
    assert _axe(browser) == []
    _screenshot(browser, "overview.png", tmp_path)


def test_sorting_and_filtering_work_by_mouse_and_keyboard(site, browser):
    folder, _ = site
    _open(browser, folder / "index.html")

    def column(name: str) -> list[int]:
        return [int(r.get_attribute(f"data-{name}")) for r in _rows(browser)]

    button = browser.find_element(By.CSS_SELECTOR, "button[data-sort='to_record']")
    button.click()
    assert column("to-record") == sorted(column("to-record"), reverse=True)
    button.send_keys(Keys.ENTER)  # the same button from the keyboard: ascending
    assert column("to-record") == sorted(column("to-record"))
    header = button.find_element(By.XPATH, "..")
    assert header.get_attribute("aria-sort") == "ascending"

    visible = lambda: [r for r in _rows(browser) if r.is_displayed()]  # noqa: E731
    browser.find_element(By.ID, "f-plan").send_keys("summit")
    assert [r.find_element(By.CSS_SELECTOR, "a").text for r in visible()] == ["Summit Tooling <Retirement> & Savings Plan"]
    assert browser.find_element(By.ID, "shown").text == "Showing 1 of 7 plans."
    browser.find_element(By.ID, "f-plan").clear()
    browser.find_element(By.ID, "f-plan").send_keys(Keys.BACKSPACE)
    Select(browser.find_element(By.ID, "f-keeper")).select_by_value("Keeper One")
    assert len(visible()) == 2 and all(r.get_attribute("data-keeper") == "Keeper One" for r in visible())
    Select(browser.find_element(By.ID, "f-keeper")).select_by_value("")
    Select(browser.find_element(By.ID, "f-severity")).select_by_value("error")
    assert visible() and all(r.get_attribute("data-worst") == "error" for r in visible())
    Select(browser.find_element(By.ID, "f-severity")).select_by_value("")
    having = {}
    for row in _rows(browser):
        for rule in row.get_attribute("data-rules").split():
            having[rule] = having.get(rule, 0) + 1
    rule = min(having, key=lambda r: (having[r], r))  # a rule only some plans have
    Select(browser.find_element(By.ID, "f-rule")).select_by_value(rule)
    assert len(visible()) == having[rule] < 7
    assert all(f" {rule} " in r.get_attribute("data-rules") for r in visible())


def test_a_plan_page_and_the_impact_view_load_clean(site, browser, tmp_path):
    folder, checked = site
    _open(browser, folder / "index.html")
    link = browser.find_element(By.LINK_TEXT, "Acme Manufacturing 401(k) Savings Plan").get_attribute("href")
    _open(browser, Path(link.removeprefix("file://")))
    _clean_load(browser)
    acme = next(p for p in checked["plans"] if p["file"].endswith("acme-401k.yaml"))
    totals = {el.get_attribute("data-total"): int(el.text) for el in browser.find_elements(By.CSS_SELECTOR, "[data-total]")}
    assert totals == {k: acme["counts"][k] for k in totals}
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.fact")) == acme["counts"]["to_record"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.finding")) == len(acme["findings"])
    assert _axe(browser) == []
    _screenshot(browser, "plan.png", tmp_path)
    _open(browser, folder / "impact.html")
    _clean_load(browser)
    assert "Hypothetical." in browser.find_element(By.TAG_NAME, "main").text
    assert _axe(browser) == []
