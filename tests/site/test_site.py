"""`compliance report`: a static site that escapes every plan string, repeats its bytes, and keeps the user's files."""

from __future__ import annotations

import base64
import hashlib
import re
from html import unescape
from pathlib import Path

import yaml

from tests.helpers import ROOT, clean_plan

DIA = ROOT / "rules" / "scenarios" / "dia-final-2027.yaml"


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _hostile(folder: Path) -> Path:
    plan = clean_plan()
    plan["plan"]["name"] = '<script>alert(1)</script> "Acme" & <img src=x onerror=alert(2)>'
    plan["plan"]["recordkeeper"] = {"name": "<b>Keeper</b>"}
    plan["menu"][1]["name"] = "</td><script>alert(3)</script>"
    plan["menu"][1].pop("expense_ratio", None)
    path = folder / "hostile.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return path


def test_the_site_escapes_plan_strings_and_runs_only_its_hashed_script(tmp_path, run_cli):
    (tmp_path / "book").mkdir()
    plan = _hostile(tmp_path / "book")
    result = run_cli("report", str(plan), str(ROOT / "examples" / "acme-401k.yaml"), "--as-of", "2026-11-22",
                     "-o", str(tmp_path / "site"))
    assert result.exit_code == 0, result.stderr
    pages = _files(tmp_path / "site")
    assert "index.html" in pages and sum(name.startswith("plans/") for name in pages) == 2
    for name, data in pages.items():
        if not name.endswith(".html"):
            continue
        html = data.decode()
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>Keeper" not in html, name
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "hostile" not in html, name
        assert not re.search(r"\b(src|href)=\"(https?:)?//", html.split("<main", 1)[0]), name  # nothing fetched
        assert " style=" not in html and " on" + "click=" not in html
        policy = unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1))
        assert "default-src 'none'" in policy and "unsafe-inline" not in policy
        for kind, body in re.findall(r"<(script|style)>(.*?)</\1>", html, re.S):
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in policy, (name, kind)


def test_the_same_book_gives_the_same_bytes_and_a_foreign_folder_is_kept(tmp_path, run_cli):
    book = ROOT / "examples" / "plan-repo" / "plans"
    args = ["report", str(book), str(ROOT / "examples" / "acme-401k.yaml"), "--scenario", str(DIA)]
    assert run_cli(*args, "-o", str(tmp_path / "a")).exit_code == 0
    assert run_cli(*args, "-o", str(tmp_path / "b")).exit_code == 0
    assert run_cli(*args, "-o", str(tmp_path / "a")).exit_code == 0  # a site written before is replaced
    assert run_cli(*args, "-o", str(tmp_path / "c"), "--jobs", "2").exit_code == 0  # checked in two workers
    first, second, parallel = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert first == second == parallel and "impact.html" in first
    assert b"Hypothetical." in first["impact.html"]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    result = run_cli(*args, "-o", str(mine))
    assert result.exit_code == 2 and result.stderr.startswith(f"{mine}: cannot write the site here")
    assert (mine / "notes.txt").read_text() == "keep me" and len(list(mine.iterdir())) == 1


def test_a_plan_page_links_its_memo(tmp_path, run_cli):
    plans = tmp_path / "plans"
    plans.mkdir()
    plan = plans / "acme.yaml"
    plan.write_bytes((ROOT / "examples" / "acme-401k.yaml").read_bytes())
    (tmp_path / "memos").mkdir()
    (tmp_path / "memos" / "acme.html").write_text("<p>memo</p>")
    result = run_cli("report", str(plan), "--as-of", "2026-11-22", "--memos", str(tmp_path / "memos"),
                     "-o", str(tmp_path / "site"))
    assert result.exit_code == 0, result.stderr
    page = next((tmp_path / "site" / "plans").glob("*.html")).read_text()
    assert 'href="../../memos/acme.html"' in page


def test_a_broken_plan_is_listed_and_the_run_exits_2(tmp_path, run_cli):
    book = tmp_path / "book"
    book.mkdir()
    (book / "a-good.yaml").write_bytes((ROOT / "examples" / "acme-401k.yaml").read_bytes())
    (book / "b-broken.yaml").write_text("schema_version: 1\nplan: {name: Broken}\nmenu: [{id: x}]\n")
    result = run_cli("report", str(book), "--as-of", "2026-11-22", "-o", str(tmp_path / "site"))
    assert result.exit_code == 2 and f"{book / 'b-broken.yaml'}:3:" in result.stderr
    index = (tmp_path / "site" / "index.html").read_text()
    assert "b-broken.yaml:3:" in index and "Acme Manufacturing" in index


def test_a_site_is_not_written_out_of_the_checkout_through_a_symlink(tmp_path, run_cli):
    import subprocess

    repo, outside = tmp_path / "repo", tmp_path / "outside"
    repo.mkdir()
    outside.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "out").symlink_to(outside)
    plan = repo / "plan.yaml"
    plan.write_bytes((ROOT / "examples" / "acme-401k.yaml").read_bytes())
    result = run_cli("report", "plan.yaml", "--as-of", "2026-11-22", "-o", "out/site", cwd=repo)
    assert result.exit_code == 2 and "leads out of the checkout through a symbolic link" in result.stderr
    assert list(outside.iterdir()) == []
