"""Lays out the memo HTML as a tagged PDF/A-3b with WeasyPrint, deterministically and without fetching.

The plan YAML and the findings JSON are embedded as attachments, so the memo carries its own evidence.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import weasyprint
from weasyprint.urls import URLFetcher, URLFetcherResponse

from compliance.collector import collector_paused
from compliance.memo.html import TEMPLATES


class BundledOnlyFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no types: URLFetcher is Any
    """Refuses every URL except files inside the memo's bundled template folder (WeasyPrint logs each refusal)."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("file",))

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        if url.startswith("file://"):
            path = Path(url[len("file://"):].split("?")[0]).resolve()
            if path.is_relative_to(TEMPLATES.resolve()) and path.is_file():
                return URLFetcherResponse(url, body=path.read_bytes())
        raise ValueError(f"memo renderer fetches only bundled assets; refused {url[:80]!r}")


@contextmanager
def _fixed_clock(day: date) -> Iterator[None]:
    """Font subsetting stamps the current time unless SOURCE_DATE_EPOCH is set: pin it to the memo date."""
    epoch = str(int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()))
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = epoch
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old


def render_pdf(html: str, memo_date: date, attachments: dict[str, str]) -> bytes:
    fetcher = BundledOnlyFetcher()
    stamp = datetime(memo_date.year, memo_date.month, memo_date.day, tzinfo=UTC)
    files = [weasyprint.Attachment(string=body, name=name, description=name, created=stamp, modified=stamp,
                                   url_fetcher=fetcher, relationship="Source")
             for name, body in attachments.items()]
    identifier = hashlib.sha256("\0".join([html, *attachments.values()]).encode()).hexdigest()[:32].encode()
    with _fixed_clock(memo_date), collector_paused():  # the layout's boxes live until the PDF is written
        document = weasyprint.HTML(string=html, base_url=TEMPLATES.as_uri() + "/", url_fetcher=fetcher)
        pdf: bytes = document.write_pdf(pdf_variant="pdf/a-3b", pdf_tags=True, attachments=files,
                                        pdf_identifier=identifier, custom_metadata=True)
        return pdf
