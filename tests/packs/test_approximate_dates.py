"""A date the record fixes only to the month or year is shown as what is known, never as an exact first day."""

from __future__ import annotations

import json

import pytest

from tests.helpers import EXAMPLE_PLAN, read_pdf

PACK = """\
pack:
  id: approximate
  title: A pack whose source is known only by its year
  version: "1"
  jurisdiction: test
  extends: [us-federal-sources]
sources:
  - id: old-case
    title: An old case known only by its year
    issuer: A court
    document: No. 1
    kind: case
    date: 2016-01-01
    date_precision: {precision}
    url: https://example.org/case
    status:
      - {{status: precedent, since: 2016-06-01, precision: month}}
"""


def write(tmp_path, precision="year"):
    pack = tmp_path / "approximate.yaml"
    pack.write_text(PACK.format(precision=precision))
    return pack


def test_posture_text_and_json_show_only_what_is_known(tmp_path, run_cli):
    pack = write(tmp_path)
    text = run_cli("posture", "--rules", "bundled", "--rules", str(pack), "--as-of", "2026-11-22")
    assert text.exit_code == 0, text.stderr
    line = next(row for row in text.stdout.splitlines() if "old-case" in row)
    assert line.split()[:4] == ["2016,", "exact", "date", "not"]
    assert "precedent since June 2016, exact day not recorded" in line and "2016-01-01" not in text.stdout
    rows = json.loads(run_cli("posture", "--rules", "bundled", "--rules", str(pack), "--as-of", "2026-11-22",
                              "--format", "json").stdout)["sources"]
    row = next(r for r in rows if r["id"] == "old-case")
    assert (row["date"], row["date_precision"], row["date_text"]) == ("2016-01-01", "year",
                                                                     "2016, exact date not recorded")
    exact = next(r for r in rows if r["id"] == "dol-car-2022-01")
    assert (exact["date_precision"], exact["date_text"]) == ("day", "2022-03-10")


def test_an_unknown_precision_is_refused_at_its_line(tmp_path, run_cli):
    result = run_cli("posture", "--rules", "bundled", "--rules", str(write(tmp_path, "decade")))
    assert result.exit_code == 2
    assert "approximate.yaml:14:21: sources[0].date_precision: 'decade' is not one of: day, month, year" in result.stderr


@pytest.mark.pdf
def test_the_memo_timeline_says_the_exact_date_is_not_recorded(tmp_path, run_cli):
    memo = tmp_path / "memo.pdf"
    result = run_cli("memo", str(EXAMPLE_PLAN), "--rules", "bundled", "--rules", str(write(tmp_path)), "-o", str(memo),
                     "--as-of", "2026-11-22")
    assert result.exit_code in (0, 1), result.stderr
    text = " ".join(" ".join(page.text.split()) for page in read_pdf(memo))
    timeline = text[text.index("Sources of law and their status"):text.index("Appendix A. Checklist")]
    assert "2016, exact date not recorded An old case known only by its year" in timeline
    assert "precedent since June 2016, exact day not recorded" in timeline
