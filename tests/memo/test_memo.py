"""Real WeasyPrint memos, read back with pypdf and rendered with pypdfium2."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
from datetime import date
from pathlib import Path

import pypdf
import pytest

from compliance import api
from compliance.memo.context import MemoOptions, Plain, build_context
from compliance.memo.html import ID_PART, TEMPLATES, render_html
from compliance.memo.pdf import BundledOnlyFetcher, render_pdf
from compliance.memo.writer import memo_bytes
from compliance.packtest import load_base
from tests.helpers import EXAMPLE_PLAN, ROOT, TODAY, read_pdf, render_pdf_page, write_plan

pytestmark = pytest.mark.pdf


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def example_pdf():
    report = api.check(EXAMPLE_PLAN, api.load_rules(["bundled"]), TODAY)
    return report, memo_bytes(report, MemoOptions(prepared_by="Dana Whitfield", committee="Acme Committee"))


def test_memo_text_has_plan_rules_citations_and_hashes(example_pdf):
    report, data = example_pdf
    text = flat(pdf_text(data)).replace("- ", "-")
    assert "Acme Manufacturing 401(k) Savings Plan" in text
    assert "To Acme Committee" in text and "From Dana Whitfield" in text
    for finding in report.findings:
        if finding.status == "fail":
            assert finding.rule_id in text.replace(" ", "") or finding.rule_id in text
    assert "29 CFR 2550.404a-1" in text and "Tibble v. Edison Int'l, 575 U.S. 523 (2015)" in text
    assert report.plan_sha256[:32] in text.replace(" ", "")
    for pack in report.ruleset.packs:
        assert pack.sha256[:32] in text.replace(" ", "")
    assert "not legal advice" in text
    assert "Page 1 of" in text


def test_memo_is_pdf_a_with_evidence_attached(example_pdf):
    report, data = example_pdf
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert sorted(reader.attachments) == ["findings.json", "plan.yaml"]
    assert reader.attachments["plan.yaml"][0] == EXAMPLE_PLAN.read_bytes()
    metadata = reader.xmp_metadata
    assert metadata is not None and "pdfaid" in str(reader.trailer["/Root"]["/Metadata"].get_object().get_data())
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # tagged PDF


def test_two_renders_are_byte_identical(example_pdf, tmp_path, run_cli):
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    for out in (first, second):
        assert run_cli("memo", str(EXAMPLE_PLAN), "-o", str(out), "--as-of", "2026-11-22").exit_code == 0
    assert first.read_bytes() == second.read_bytes()


HOSTILE = '<img src="file:///etc/passwd"><link rel="stylesheet" href="http://127.0.0.1:9/x.css">{{ 7*7 }}'


def test_hostile_plan_text_is_escaped_and_nothing_is_fetched(tmp_path, bundled):
    plan = write_plan(tmp_path, {
        "plan": {"name": "Evil <b>Plan</b> " + HOSTILE},
        "default_investment": None,
        "menu": [{"id": "evil", "name": "Fund " + HOSTILE, "vehicle": "cit", "asset_class": "target_date",
                  "qdia": True, "diversified": True, "liquidity": "daily", "expense_ratio": 0.001}],
        "waivers": [{"rule": "erisa.disclosure.benchmark", "fund": "evil", "reason": "Because " + HOSTILE,
                     "approved_by": "<script>alert(1)</script>", "approved_on": date(2026, 1, 1),
                     "expires": date(2027, 1, 1)}],
    })
    report = api.check(plan, bundled, TODAY)
    html = memo_bytes(report, MemoOptions(), fmt="html").decode()
    assert "<img src" not in html and "<script>" not in html and "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    data = memo_bytes(report, MemoOptions())
    text = flat(pdf_text(data))
    assert '<img src="file:///etc/passwd">' in text.replace("file:/// etc", "file:///etc")
    assert "{{ 7*7 }}" in text and 'x.css">49' not in text.replace("/ x", "/x")
    assert "root:x:0:0" not in text
    reader = pypdf.PdfReader(io.BytesIO(data))
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        xobjects = resources.get("/XObject") or {}
        assert not any(xobjects[k].get_object().get("/Subtype") == "/Image" for k in xobjects)


def test_fetcher_refuses_files_and_network_urls(caplog):
    html = ('<img src="file:///etc/passwd"><img src="http://127.0.0.1:9/a.png">'
            '<link rel="stylesheet" href="file:///etc/hostname"><p>ok</p>')
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        data = render_pdf(html, TODAY, {})
    refused = "\n".join(r.getMessage() for r in caplog.records)
    for url in ("file:///etc/passwd", "http://127.0.0.1:9/a.png", "file:///etc/hostname"):
        assert f"fetches only bundled assets; refused {url!r}" in refused
    assert "ok" in pdf_text(data)
    css = TEMPLATES / "memo.css"
    assert BundledOnlyFetcher().fetch(css.as_uri()).read() == css.read_bytes()  # bundled assets are served


@pytest.mark.parametrize("enabled", [True, False], ids=["collector on", "collector off"])
def test_the_layout_pauses_the_collector_and_restores_it(enabled):
    """The layout runs with the cyclic collector paused and leaves it as it found it: seen at every call into
    WeasyPrint's layout, not counted in collections (how many there are depends on the allocator)."""
    import gc
    import sys

    during = set()

    def watch(frame, event, arg):
        if event == "call" and f"weasyprint{os.sep}layout{os.sep}" in frame.f_code.co_filename:
            during.add(gc.isenabled())

    gc.enable() if enabled else gc.disable()
    sys.setprofile(watch)
    try:
        data = render_pdf("<p>cell</p>" * 20, TODAY, {})
    finally:
        sys.setprofile(None)
        assert gc.isenabled() is enabled
        gc.enable()
    assert "cell" in pdf_text(data)
    assert during == {False}


def test_two_hundred_fund_plan_flows_across_pages(tmp_path, bundled):
    base_fund = load_base()[1]
    funds = [base_fund | {"id": f"fund-{i:03d}", "name": f"Fund Number {i:03d}", "qdia": i == 0,
                          "asset_class": "target_date" if i == 0 else "global_equity"} for i in range(200)]
    plan = write_plan(tmp_path, {"default_investment": None, "menu": funds})
    data = memo_bytes(api.check(plan, bundled, TODAY), MemoOptions())
    reader = pypdf.PdfReader(io.BytesIO(data))
    pages = [page.extract_text() for page in reader.pages]
    assert len(pages) > 10
    text = "\n".join(pages)
    assert all(f"Fund Number {i:03d}" in text for i in range(200))
    menu_pages = [p for p in pages if "Fund Number" in p and "Alternatives" in p]
    assert len(menu_pages) >= 5  # the menu table's header repeats on every page it spans
    image = render_pdf_page(data, -1, scale=0.5)
    assert image.size[0] > 0 and image.getextrema() != ((255, 255), (255, 255), (255, 255))


def test_failed_memo_leaves_existing_file_intact(tmp_path, run_cli):
    target = tmp_path / "memo.pdf"
    target.write_bytes(b"previous memo")
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nplan: {name: x}\nmenu: []\n")
    result = run_cli("memo", str(bad), "-o", str(target))
    assert result.exit_code == 2
    assert target.read_bytes() == b"previous memo"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_html_format_and_batch_with_jobs(tmp_path, run_cli):
    plans = tmp_path / "plans"
    plans.mkdir()
    write_plan(plans, name="one.yaml")
    write_plan(plans, {"plan": {"name": "Second Plan"}}, name="two.yaml")
    out = tmp_path / "out"
    result = run_cli("memo", str(plans), "-o", str(out), "--jobs", "2", "--as-of", "2026-11-22")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["one.pdf", "two.pdf"]
    assert "Second Plan" in pdf_text((out / "two.pdf").read_bytes())
    html = tmp_path / "memo.html"
    assert run_cli("memo", str(plans / "one.yaml"), "-o", str(html), "--format", "html").exit_code == 0
    assert html.read_text().startswith("<!DOCTYPE html>")


def test_custom_template_runs_sandboxed(tmp_path, run_cli):
    (tmp_path / "memo.html.j2").write_text("<p>{{ plan_name.__class__.__mro__[1].__subclasses__() }}</p>")
    result = run_cli("memo", str(EXAMPLE_PLAN), "-o", str(tmp_path / "m.html"), "--format", "html",
                     "--template-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "template refused" in result.stderr
    assert not (tmp_path / "m.html").exists()


def test_docs_memo_images_are_the_pages_memo_md_shows():
    """Every page image docs/memo.md shows is there and no other: distinct, US-letter pages at 72 dpi, not blank."""
    from PIL import Image

    folder = ROOT / "docs" / "memo-images"
    shown = re.findall(r"\(memo-images/((?:lineup-)?page-\d+\.png)\)", (ROOT / "docs" / "memo.md").read_text())
    assert len(shown) >= 3
    assert sorted(shown) == sorted(p.name for p in folder.glob("*"))
    images = [folder / name for name in shown]
    assert len({hashlib.sha256(p.read_bytes()).digest() for p in images}) == len(images)
    for path in images:
        with Image.open(path) as image:
            assert (image.format, image.size) == ("PNG", (612, 792)), path.name
            darkest = min(low for low, _ in image.convert("RGB").getextrema())
            assert darkest < 64, f"{path.name} is blank"


def test_a_huge_unbroken_name_wraps_on_the_page_and_bidi_overrides_show_as_text(tmp_path, run_cli):
    import yaml

    plan = yaml.safe_load(EXAMPLE_PLAN.read_text())
    plan["menu"][0]["name"] = "X" * 3000
    plan["menu"][1]["name"] = "Income \u202eFund gnitsrevid\u202c Trust"
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True))
    out = tmp_path / "memo.pdf"
    assert run_cli("memo", str(path), "-o", str(out), "--as-of", "2026-11-22").exit_code == 0
    text = ""
    for page in read_pdf(out):
        text += page.text
        assert max((box[2] for box in page.boxes), default=0) <= page.width, "text runs off the page"
    assert "\u202e" not in text and "\\u202e" in text  # shown, never applied


def test_memo_fees_keep_their_precision_and_the_command_names_the_packs(tmp_path, run_cli):
    import yaml

    plan = yaml.safe_load(EXAMPLE_PLAN.read_text())
    plan["menu"][4]["expense_ratio"] = 0.00015  # an index fund at 1.5 bp
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    out = tmp_path / "memo.html"
    policy = str(ROOT / "examples" / "sponsor-policy.yaml")
    result = run_cli("memo", str(path), "-o", str(out), "--format", "html", "--as-of", "2026-11-22", "--jobs", "2",
                     "--rules", "bundled", "--rules", policy)
    assert result.exit_code == 0, result.stderr
    html = out.read_text()
    assert "0.015%" in html and ">0.01%<" not in html
    assert f"compliance memo --as-of 2026-11-22 --rules bundled --rules {policy}" in html
    assert "--jobs" not in html and str(out) not in html


def test_characters_no_installed_font_can_draw_are_named_on_the_memo(tmp_path):
    """Run with fontconfig told of the DejaVu fonts alone, so what cannot be drawn is known: DejaVu has no Chinese,
    and has Greek."""
    import subprocess
    import sys

    import yaml

    dejavu = subprocess.run(["fc-match", "-f", "%{file}", "DejaVu Sans"], capture_output=True, text=True).stdout
    assert Path(dejavu).name == "DejaVuSans.ttf"  # scripts/setup.sh installs fonts-dejavu-core
    config = tmp_path / "fonts.conf"
    config.write_text(f"<fontconfig><dir>{Path(dejavu).parent}</dir><cachedir>{tmp_path / 'fc'}</cachedir>"
                      "</fontconfig>")
    plan = yaml.safe_load(EXAMPLE_PLAN.read_text())
    plan["menu"][0]["name"] = "Acme 目标 Trust"
    plan["menu"][1]["name"] = "Ελληνικά Income Fund"
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True))
    out = tmp_path / "memo.pdf"
    run = subprocess.run([sys.executable, "-m", "compliance", "memo", str(path), "-o", str(out), "--as-of",
                          "2026-11-22"], env=os.environ | {"FONTCONFIG_FILE": str(config)}, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    first = flat(read_pdf(out)[0].text)
    assert "cannot be drawn with the installed fonts" in first
    assert "(U+76EE), '标' (U+6807)" in first
    assert "U+0395" not in first and "U+03BB" not in first


def test_the_last_page_holds_the_audit_trail_with_the_signatures_whole(example_pdf):
    _, data = example_pdf
    pages = [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]
    last = flat(pages[-1])
    # the audit trail (what is signed) and the whole signature block share the last page: never a few stray lines
    assert "Appendix C. Methodology and audit trail" in last and "Review and signature" in last
    assert last.count("Signature:") == 2 and "counsel's advice" in last
    assert len([line for line in pages[-1].splitlines() if line.strip()]) > 15
    assert not any("Signature:" in page or "Review and signature" in page for page in pages[:-1])


def test_rule_ids_break_only_after_a_dot(example_pdf):
    import re

    report, data = example_pdf
    text = pdf_text(data)
    seen = 0
    for rule in report.ruleset.rules:
        pattern = r"\n?".join(re.escape(c) for c in rule.id)
        for match in re.finditer(pattern, text):
            seen += 1
            breaks = [i for i, c in enumerate(match.group()) if c == "\n"]
            # after a dot always; after a hyphen only inside a part too long for a narrow column (ID_PART)
            long_parts = [p for p in rule.id.split(".") if len(p) > ID_PART]
            assert all(match.group()[i - 1] == "." or (match.group()[i - 1] == "-" and long_parts)
                       for i in breaks), repr(match.group())
    assert seen >= len(report.ruleset.rules)  # every id is in the checklist; the pattern found them
    assert "private.\npe-statement-2021.\nsmall-plan-expertise" in text or \
        "private.pe-statement-2021.small-plan-expertise" in text.replace("\n", "")


def test_two_hundred_character_names_wrap_inside_the_page(tmp_path, run_cli):
    import yaml

    name = "Q" * 200
    plan = yaml.safe_load(EXAMPLE_PLAN.read_text())
    plan["plan"]["name"] = name
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    out = tmp_path / "memo.pdf"
    result = run_cli("memo", str(path), "-o", str(out), "--as-of", "2026-11-22", "--prepared-by", name, "--for", name)
    assert result.exit_code == 0, result.stderr
    pdf = read_pdf(out)
    margin = 0.75 * 72  # the stylesheet's left and right page margins, in points
    for page in pdf:
        assert all(margin - 1 <= box[0] and box[2] <= page.width - margin + 1 for box in page.boxes if box[2] > box[0])
    last = pdf[-1]
    text = last.text
    block = text.index("Review and signature")
    signatures = text[block:text.index("counsel's advice", block)]
    assert signatures.count("Signature:") == 2 and signatures.replace("\r\n", "").count(name) == 2  # wrapped
    first_signature = text.index("Signature:")
    signature_left = last.boxes[first_signature][0]
    name_start = text.index("Q", block)
    name_boxes = [last.boxes[i] for i in range(name_start, first_signature) if text[i] == "Q"]
    assert max(box[2] for box in name_boxes) < signature_left  # the name wraps in its column, left of the line
    page = pdf[0]
    text = page.text
    title = text.rindex(" Fiduciary review memo")  # the running header: the plan name, cut short on one line
    header = [page.boxes[i] for i in range(text.rindex("\n", 0, title) + 1, title)]
    assert max(box[2] for box in header) < page.boxes[title + 1][0]
    assert max(box[1] for box in header) - min(box[1] for box in header) < 2  # one baseline, not wrapped


def test_a_large_menu_is_summarised_and_every_option_and_finding_is_still_in_the_memo(tmp_path, bundled):
    """Past LARGE_MENU options the menu is counted by asset class and status, each action item appears once per
    check, and every option (Appendix A) and every finding (section 5) is a line of fixed-width text, cut to its
    column but never off the page; hostile text stays escaped."""
    from compliance.memo.context import LARGE_MENU

    base_fund = load_base()[1]
    classes = ["global_equity", "intermediate_bond", "stable_value"]
    funds = [base_fund | {"id": f"fund-{i:03d}", "name": f"Fund Number {i:03d}", "qdia": i == 0,
                          "expense_ratio": 0.0001 * (i % 90 + 1),
                          "asset_class": "target_date" if i == 0 else classes[i % 3]} for i in range(LARGE_MENU + 1)]
    funds[1]["name"] = "X" * 3000
    funds[2]["name"] = "Income \u202eFund gnitsrevid\u202c Trust"
    report = api.check(write_plan(tmp_path, {"default_investment": None, "menu": funds}), bundled, TODAY)
    data = memo_bytes(report, MemoOptions())
    pages = []
    for page in read_pdf(data):
        pages.append(page.text)
        assert max((box[2] for box in page.boxes), default=0) <= page.width, "text runs off the page"
    text = flat("\n".join(pages))
    assert f"The menu has {LARGE_MENU + 1} options" in text and f"All options {LARGE_MENU + 1} " in text
    summary = text[:text.index("2. Findings")]
    for rule_id in {f.rule_id for f in report.findings if f.status == "fail" and f.severity != "info"}:
        headline = next(f.headline for f in report.findings if f.rule_id == rule_id)
        assert summary.count(headline) == 1  # one action line per check, for its options or the plan
    appendix = text[text.index("Appendix D. Every option on the menu"):]
    assert all(f"Fund Number {i:03d} " in appendix for i in range(LARGE_MENU + 1) if i not in (1, 2))
    assert "X" * 39 + "…" in appendix and "X" * 41 not in appendix  # cut to its 40-character column
    section = text[text.index("2. Findings"):text.index("3. Facts to record")]
    # a finding's lines may continue on the next page: drop the running footer that extraction puts between them
    section = re.sub(re.escape(report.plan_name) + r" Fiduciary review memo Checklist aid, not legal advice "
                     r"Page \d+ of \d+", " ", section)
    findings = "".join(section.split())
    plain = Plain(report)
    messages = ["".join(plain(f.message).split()) for f in report.findings if f.status in ("fail", "waived")]
    # in full (long words wrap), but for one holding the 3,000-character name: shown up to SHOWN characters
    missing = [m for m in messages if "\u202e" not in m and "X" * 3000 not in m and m not in findings]
    assert missing == []
    assert "\u202e" not in text and "\\u202e" in text  # shown, never applied
    assert "<table class=\"menu\">" not in memo_bytes(report, MemoOptions(), fmt="html").decode()


def test_a_twenty_kilobyte_unbroken_name_is_cut_and_broken_in_the_memo_and_whole_in_the_attachment(tmp_path):
    """Issue 27, item 16: WeasyPrint's time grew with the square of an unbroken name (3 KB 33 s, 10 KB 289 s, 20 KB
    did not finish). The memo shows SHOWN characters of it, breakable every WORD; plan.yaml keeps it whole."""
    import subprocess
    import sys

    import yaml

    from compliance.memo.html import SHOWN, WORD

    name = "N" * 20_000
    plan = yaml.safe_load(EXAMPLE_PLAN.read_text())
    plan["menu"][0]["name"] = name
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, width=10**9))
    out = tmp_path / "memo.pdf"
    subprocess.run([sys.executable, "-m", "compliance", "memo", str(path), "-o", str(out), "--as-of", "2026-11-22"],
                   check=True, capture_output=True, timeout=600)
    report = api.check(path, api.load_rules(["bundled"]), TODAY)
    html = render_html(build_context(report, MemoOptions()), for_pdf=True)  # what the PDF is laid out from
    assert "N" * (WORD + 1) not in html  # a break opportunity at least every WORD characters
    assert ("\u200b".join(["N" * WORD] * (SHOWN // WORD) + ["N" * (SHOWN % WORD)]) + "… (20,000 characters; the "
            "attached plan.yaml and findings.json hold the whole text)") in html
    data = out.read_bytes()
    text = pdf_text(data)
    assert "\u200b" not in text  # the break opportunities add nothing to the text
    runs = [len(run) for run in re.findall("N{100,}", text.replace("\n", ""))]
    assert runs and max(runs) == SHOWN  # the name is shown cut, never whole
    assert "(20,000 characters; the attached plan.yaml and findings.json hold the whole text)" in flat(text)
    attached = pypdf.PdfReader(io.BytesIO(data)).attachments
    assert attached["plan.yaml"][0] == path.read_bytes() and name in attached["plan.yaml"][0].decode()


def test_an_imported_line_up_memo_says_what_to_record_and_states_no_violation(tmp_path, run_cli):
    """A line-up as a recordkeeper gives it (names, classes, fees): the memo lists facts to record, no errors, and
    never names the plan "to record" as if that were its name."""
    plan, memo = tmp_path / "lineup.yaml", tmp_path / "lineup-memo.pdf"
    imported = run_cli("import", str(ROOT / "examples" / "lineups" / "vanguard-index-lineup.csv"), "-o", str(plan))
    assert imported.exit_code == 0, imported.stderr
    result = run_cli("memo", str(plan), "-o", str(memo), "--as-of", TODAY.isoformat())
    assert result.exit_code in (0, 1), result.stderr
    first = flat(read_pdf(memo)[0].text)
    assert "Re Fund-menu review: Plan name to record (EIN to record, plan number to record)" in first
    assert re.search(r"0 errors and \d+ warnings? need the committee's action; \d+ facts remain to record", first)
    text = flat(pdf_text(memo.read_bytes()))
    assert "3. Facts to record" in text
    assert "is not diversified" not in text and "restricts transfers out" not in text
    # one sentence for what 14 options lack alike, then the options, never 14 copies of the sentence
    assert text.count("shows that each option was reviewed within the monitoring period") == 1
    assert re.search(r"For 14 options: Vanguard Target Retirement Income Fund \(line \d+\); ", text)
    image = render_pdf_page(memo, 0, scale=1).convert("L")
    assert min(image.getextrema()) < 64 and image.size == (612, 792)


def test_the_memo_explains_each_term_it_uses_and_no_other(example_pdf):
    """Every term the glossary knows and the memo uses (anywhere outside the glossary) is explained; none it does
    not use. Judged on the memo's HTML, whose text is exact (a PDF's extracted text may split "F.3d"), and the
    PDF shows the section."""
    import html

    from compliance.memo.glossary import _glossary

    report, data = example_pdf
    page = render_html(build_context(report, MemoOptions(prepared_by="Dana Whitfield", committee="Acme Committee")),
                       for_pdf=True)
    text = html.unescape(re.sub(r"<style.*?</style>|<[^>]+>", " ", page, flags=re.DOTALL))
    start, end = text.index("Terms used in this memo"), text.index("Appendix A. Checklist")
    body, listed = text[:start] + text[end:], re.findall(r"<tr><th>(.*?)</th>", page[page.index('class="terms"'):])
    listed = [html.unescape(term) for term in listed]
    assert {"QDIA", "404a-5", "ERISA", "bp"} <= set(listed)
    for term, _, pattern in _glossary():
        assert bool(pattern.search(body)) == (term in listed), term
    pdf = flat(pdf_text(data))
    assert "Terms used in this memo" in pdf and "qualified default investment alternative" in pdf
