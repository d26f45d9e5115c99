"""Regenerate docs/memo-images/: the example memo's summary, the first page of its findings, pending law, fund
menu, terms and checklist, and its closing page, and the first two pages of an imported line-up's memo, rendered with pypdfium2 at 72 dpi (a test extra). Look at them after.

    .venv/bin/python scripts/memo-images.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pypdfium2

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "memo-images"
SECTIONS = ("MEMORANDUM", "2. Findings", "5. Pending law", "6. Fund menu", "Terms used in this memo", "Appendix A. Checklist",
            "Review and signature")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        memo = Path(tmp) / "acme-memo.pdf"
        subprocess.run([sys.executable, "-m", "compliance", "memo", "examples/acme-401k.yaml", "-o", str(memo),
                        "--as-of", "2026-11-22", "--prepared-by", "Dana Whitfield, CFA",
                        "--for", "Acme Investment Committee"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        pdf = pypdfium2.PdfDocument(str(memo))
        texts = [page.get_textpage().get_text_range() for page in pdf]
        wanted = [next(i for i, text in enumerate(texts) if heading in text) for heading in SECTIONS]
        for old in IMAGES.glob("page-*.png"):
            old.unlink()
        for i in dict.fromkeys(wanted):
            pdf[i].render(scale=1).to_pil().save(IMAGES / f"page-{i + 1}.png")
            print(f"docs/memo-images/page-{i + 1}.png")
        print(f"{len(pdf)} pages")
        plan, lineup = Path(tmp) / "vanguard.yaml", Path(tmp) / "vanguard-memo.pdf"
        subprocess.run([sys.executable, "-m", "compliance", "import", "examples/lineups/vanguard-index-lineup.csv",
                        "-o", str(plan)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run([sys.executable, "-m", "compliance", "memo", str(plan), "-o", str(lineup), "--as-of",
                        "2026-11-22"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        imported = pypdfium2.PdfDocument(str(lineup))
        for old in IMAGES.glob("lineup-page-*.png"):
            old.unlink()
        for i in range(min(2, len(imported))):
            imported[i].render(scale=1).to_pil().save(IMAGES / f"lineup-page-{i + 1}.png")
            print(f"docs/memo-images/lineup-page-{i + 1}.png")
        print(f"imported line-up: {len(imported)} pages")


if __name__ == "__main__":
    main()
