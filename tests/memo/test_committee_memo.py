"""The memo a committee files as it stands (issue 26): page 1 is the whole story, plain words outside the
appendix, problems grouped by check at any menu size, what changed since the last review, and the -o rules."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date

import pypdf
import pytest

from compliance import api
from compliance.memo.context import MemoOptions
from compliance.memo.writer import memo_bytes
from compliance.packtest import load_base
from tests.helpers import EXAMPLE_PLAN, ROOT, TODAY, write_plan

URL = re.compile(r"https?://\s*\S+(?:\s*\n\S+)?")
SNAKE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")
DOTTED = re.compile(r"(?<![\w./])[a-z][a-z0-9-]+\.[a-z][a-z0-9_-]+")


def pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def body(texts: list[str]) -> str:
    """The memo up to its appendix, URLs (which may wrap) and the plan file's own name left out."""
    text = "\n".join(texts)
    text = text[:text.index("Appendix A. Checklist")]
    return URL.sub("", text)


@pytest.fixture(scope="module")
def example():
    report = api.check(EXAMPLE_PLAN, api.load_rules(["bundled"]), TODAY)
    return report, pages(memo_bytes(report, MemoOptions(cwd=str(ROOT), trees=(str(ROOT),))))


def test_no_field_path_rule_id_or_snake_case_word_outside_the_appendix(example):
    report, texts = example
    text = body(texts).replace("acme-401k.yaml", "")
    assert SNAKE.findall(text) == []
    assert DOTTED.findall(text) == []
    flat = " ".join(text.split())
    assert [r.id for r in report.ruleset.rules if r.id in flat] == []
    assert "menu[fund" not in flat
    assert "Appendix A. Checklist" in "\n".join(texts) and "erisa.qdia.transfers" in "\n".join(texts)


def test_page_one_holds_the_summary_of_the_example(example):
    report, texts = example
    first = " ".join(texts[0].split())
    assert "1. Summary" in first and "What needs the committee's action" in first
    assert "No 404a-5 participant fee disclosure within 14 months" in first
    assert "Pending law to watch" in first and "2. Findings" not in first
    assert "examples/acme-401k.yaml" in first  # the repository's name for the file, not a path from the cwd


def test_a_sixty_fund_plan_fits_its_summary_on_page_one_with_each_problem_once(tmp_path, bundled):
    base_fund = load_base()[1]
    funds = [base_fund | {"id": f"fund-{i:03d}", "name": f"Fund Number {i:03d}", "qdia": i == 0,
                          "asset_class": "target_date" if i == 0 else "global_equity", "last_reviewed": date(2024, 1, 2)}
             for i in range(60)]
    plan = write_plan(tmp_path, {"default_investment": None, "menu": funds})
    report = api.check(plan, bundled, TODAY)
    texts = pages(memo_bytes(report, MemoOptions()))
    first = " ".join(texts[0].split()).split("2. Findings")[0]  # the whole summary, on page 1
    failing = {f.rule_id for f in report.findings if f.status == "fail" and f.severity != "info"}
    assert failing, "the generated plan has problems to group"
    assert "What needs the committee's action" in first
    for rule_id in failing:
        headline = next(f.headline for f in report.findings if f.rule_id == rule_id)
        assert first.count(headline) == 1, headline  # one line per problem, whatever the menu's size
    assert "Fund Number 007 and 52 more" in first  # eight options named, then counted


def memo_cli(run_cli, *args, **kwargs):
    return run_cli("memo", *args, "--as-of", TODAY.isoformat(), **kwargs)


def test_since_a_previous_memo_and_a_tampered_one(tmp_path, run_cli):
    plan = tmp_path / "plan.yaml"
    shutil.copy(EXAMPLE_PLAN, plan)
    assert memo_cli(run_cli, str(plan), "-o", str(tmp_path / "prev.pdf")).exit_code == 0
    plan.write_text(plan.read_text().replace("expense_ratio: 0.0089", "expense_ratio: 0.0052"))
    assert memo_cli(run_cli, str(plan), "-o", str(tmp_path / "now.pdf"), "--since", str(tmp_path / "prev.pdf")
                    ).exit_code == 0
    text = " ".join("\n".join(pages((tmp_path / "now.pdf").read_bytes())).split())
    assert "What changed since the last review" in text
    assert "Changed: Large Cap Growth Fund: total annual operating expense 0.89% → 0.52%" in text
    assert "Costlier share class of the same fund, no reason recorded: Large Cap Growth Fund" in text  # resolved
    # an altered attachment: the plan no longer matches the hash its audit trail records
    findings = pypdf.PdfReader(str(tmp_path / "prev.pdf")).attachments["findings.json"][0]
    tampered = pypdf.PdfWriter()
    tampered.append(pypdf.PdfReader(str(tmp_path / "prev.pdf")))
    tampered.add_attachment("plan.yaml", plan.read_bytes())
    tampered.add_attachment("findings.json", findings)
    tampered.write(str(tmp_path / "tampered.pdf"))
    result = memo_cli(run_cli, str(plan), "-o", str(tmp_path / "x.pdf"), "--since", str(tmp_path / "tampered.pdf"))
    assert result.exit_code == 2 and "does not match the SHA-256 in its audit trail" in result.stderr
    bare = pypdf.PdfWriter()
    bare.append(pypdf.PdfReader(str(tmp_path / "prev.pdf")))
    bare.write(str(tmp_path / "bare.pdf"))
    result = memo_cli(run_cli, str(plan), "-o", str(tmp_path / "x.pdf"), "--since", str(tmp_path / "bare.pdf"))
    assert result.exit_code == 2 and "carries no attached plan.yaml and findings.json" in result.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_since_a_git_revision(tmp_path, run_cli):
    plan = tmp_path / "plan.yaml"
    shutil.copy(EXAMPLE_PLAN, plan)
    git = ["git", "-c", "user.email=a@example.com", "-c", "user.name=a"]
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "plan.yaml"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "q3"], cwd=tmp_path, check=True)
    plan.write_text(plan.read_text().replace("expense_ratio: 0.0089", "expense_ratio: 0.0052"))
    result = memo_cli(run_cli, "plan.yaml", "-o", "now.html", "--since", "HEAD", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    html = (tmp_path / "now.html").read_text()
    assert "Compared with revision HEAD of the plan file." in html
    assert "total annual operating expense 0.89% → 0.52%" in html
    result = memo_cli(run_cli, "plan.yaml", "-o", "x.html", "--since", "--output=x", cwd=tmp_path)
    assert result.exit_code == 2 and "may not start with '-'" in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["-o", "memo.txt"], "a memo is a .pdf or an .html file, not .txt"),
    (["-o", "memo.html", "--format", "pdf"], "--format pdf writes PDF, but the file is named .html"),
])
def test_output_names_that_disagree_are_refused(tmp_path, run_cli, args, message):
    result = memo_cli(run_cli, str(EXAMPLE_PLAN), *[str(tmp_path / a) if a.startswith("memo") else a for a in args])
    assert result.exit_code == 2 and message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_output_rules(tmp_path, run_cli):
    assert memo_cli(run_cli, str(EXAMPLE_PLAN), "-o", str(tmp_path / "memo.html")).exit_code == 0
    assert (tmp_path / "memo.html").read_text().startswith("<!DOCTYPE html>")  # the format from the extension
    result = memo_cli(run_cli, str(EXAMPLE_PLAN), "-o", "-", "--format", "html")
    assert result.exit_code == 0 and result.stdout.startswith("<!DOCTYPE html>") and not (tmp_path / "-").exists()
    second = write_plan(tmp_path, {})
    result = memo_cli(run_cli, str(EXAMPLE_PLAN), str(second), "-o", str(tmp_path / "two.pdf"))
    assert result.exit_code == 2 and "need an output folder, named as one" in result.stderr
    assert not (tmp_path / "two.pdf").exists()
    result = memo_cli(run_cli, str(EXAMPLE_PLAN), str(second), "-o", str(tmp_path / "memos") + "/", "--format", "html")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.suffix for p in (tmp_path / "memos").rglob("*.html")) == [".html", ".html"]


@pytest.mark.parametrize("options", [60, 61])
def test_a_pending_item_lists_options_one_by_one_up_to_grid_rows_then_counts_them(tmp_path, bundled, options):
    """A table row per option is what a committee cannot read past a page or two, and what makes a large memo
    slow to lay out: past GRID_ROWS options, each determination's missing options are counted instead."""
    from compliance.memo.context import GRID_ROWS, build_context

    base_fund = {k: v for k, v in load_base()[1].items() if k != "due_diligence"}  # no determination recorded
    funds = [base_fund | {"id": f"fund-{i:03d}", "name": f"Fund Number {i:03d}", "qdia": False,
                          "asset_class": "global_equity"} for i in range(options)]
    report = api.check(write_plan(tmp_path, {"default_investment": None, "menu": funds}), bundled, TODAY)
    [dia] = [w for w in build_context(report, MemoOptions())["pending"] if len(w["checks"]) > 1]
    if options <= GRID_ROWS:
        assert len(dia["grid"]) == options and not dia["tally"]
        assert all(all(row["cells"]) for row in dia["grid"])
    else:
        assert not dia["grid"] and [t["options"] for t in dia["tally"]] == [options] * len(dia["checks"])
    assert f"{options} options lack all of them" in dia["meaning"]
