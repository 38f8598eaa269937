"""Article metadata through the real extractor: publication and modification times with the offset
the page states (and where they came from), authors apart from the organisations credited, paywall
markup and truncation."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from crawler.extract import extract
from crawler.extract.authors import split_names
from crawler.extract.dates import normalise_stamp
from crawler.items import Article

FETCHED = datetime(2026, 6, 1, 12, 0, 0)  # naive UTC, as the crawl passes it

_PARAS = "".join(
    f"<p>Paragraph {i} says the ferry service across the bay resumes on Monday after the storm repairs "
    f"that kept the harbour closed for most of the winter, the port authority said.</p>"
    for i in range(8)
)


def _page(head: str = "", ld: dict | list | None = None, article_head: str = "", tail: str = "") -> str:
    script = f'<script type="application/ld+json">{json.dumps(ld)}</script>' if ld is not None else ""
    return (
        f'<html lang="en"><head><title>Ferry service resumes</title><meta property="og:type" content="article">'
        f"{head}{script}</head><body><article><h1>Ferry service resumes</h1>{article_head}{_PARAS}{tail}"
        "</article></body></html>"
    )


def _extract(html: str, fetched_at: datetime | None = FETCHED) -> Article:
    art = extract(html, "https://news.example/ferry", fetched_at=fetched_at)
    assert art is not None
    return art


def _ld(**fields: object) -> dict:
    return {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": "Ferry service resumes",
        **fields,
    }


def test_json_ld_times_keep_the_stated_offset_and_modified_is_kept() -> None:
    art = _extract(
        _page(
            '<meta property="article:published_time" content="2025-06-05T10:00:00Z">',
            _ld(datePublished="2025-06-05T14:46:12.250+02:00", dateModified="2025-06-06T08:01:00-04:00"),
        )
    )
    assert art.published == "2025-06-05T14:46:12+02:00"  # JSON-LD first, fraction dropped
    assert art.published_source == "json-ld"
    assert art.modified == "2025-06-06T08:01:00-04:00"


def test_meta_then_time_element_then_date_alone() -> None:
    meta = _extract(_page('<meta property="article:published_time" content="2025-06-05T12:46:12Z">'))
    assert (meta.published, meta.published_source) == (
        "2025-06-05T12:46:12+00:00",
        "meta:article:published_time",
    )
    timed = _extract(_page(article_head='<time datetime="2025-06-04T09:15:00+05:30">4 June</time>'))
    assert (timed.published, timed.published_source) == ("2025-06-04T09:15:00+05:30", "time")
    day = _extract(_page('<meta name="date" content="2025-06-03">'))
    assert day.published == "2025-06-03" and day.modified is None


def test_dates_after_the_fetch_or_before_1990_are_rejected_for_the_next_source() -> None:
    html = _page(
        '<meta property="article:published_time" content="2025-06-05T10:00:00+02:00">',
        _ld(datePublished="2026-07-01T10:00:00+00:00"),  # a month after the fetch
    )
    art = _extract(html)
    assert (
        art.published == "2025-06-05T10:00:00+02:00" and art.published_source == "meta:article:published_time"
    )
    # Fetched later, the JSON-LD time is plausible again and wins.
    assert _extract(html, datetime(2026, 8, 1)).published == "2026-07-01T10:00:00+00:00"
    old = _extract(
        _page(article_head='<time datetime="1984-01-01">1984</time><time datetime="2025-01-02">x</time>')
    )
    assert old.published == "2025-01-02"
    # A local day ahead of UTC's (the page's time zone is east of the crawler's) is not the future.
    ahead = _extract(_page('<meta name="date" content="2026-06-02">'), datetime(2026, 6, 1, 20, 0))
    assert ahead.published == "2026-06-02"
    # Without a fetch time, "now" is the bound.
    future = _page(_ld_script(datePublished="2999-01-01T00:00:00Z"))
    assert extract(future, "https://news.example/ferry").published is None  # type: ignore[union-attr]


def _ld_script(**fields: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(_ld(**fields))}</script>'


def test_htmldate_is_the_fallback_and_gives_a_date_alone() -> None:
    html = _page(article_head="<p class='dateline'>Published 2025-03-14 by the desk</p>")
    art = _extract(html.replace("/ferry", "/2025/03/14/ferry"))
    assert art.published == "2025-03-14" and art.published_source == "htmldate"


@pytest.mark.parametrize(
    ("value", "stamp"),
    [
        ("2025-06-05 14:46:12+02:00", "2025-06-05T14:46:12+02:00"),
        ("2025-06-05T14:46Z", "2025-06-05T14:46:00+00:00"),
        ("2025-06-05T14:46:12+0530", "2025-06-05T14:46:12+05:30"),
        ("2025-06-05T14:46:12", "2025-06-05T14:46:12"),
        ("Thu, 05 Jun 2025 14:46:12 +0200", "2025-06-05T14:46:12+02:00"),
        ("20250605", "2025-06-05"),
        ("2025-02-30", None),
        ("soon", None),
    ],
)
def test_stamps_are_normalised(value: str, stamp: str | None) -> None:
    assert normalise_stamp(value) == stamp


def test_every_json_ld_author_and_organisations_as_credit() -> None:
    ld = _ld(
        author=[
            {"@type": "Person", "name": "Samya Kullab"},
            {"@type": "Person", "name": "Vasilisa Stepanenko"},
            {"@type": "Organization", "name": "Kyiv Bureau"},
            "dpa",
        ],
        publisher={"@type": "Organization", "name": "Harbour News"},
    )
    art = _extract(_page(ld=ld))
    assert art.authors == ["Samya Kullab", "Vasilisa Stepanenko"]
    assert art.credit == ["Kyiv Bureau", "dpa"]
    assert art.author == "Samya Kullab, Vasilisa Stepanenko"


def test_author_references_are_resolved_and_the_publisher_is_credit() -> None:
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            _ld(author={"@id": "https://news.example/#/person/1"}),
            {"@type": "Person", "@id": "https://news.example/#/person/1", "name": "Chuck Ross"},
        ],
    }
    assert _extract(_page(ld=graph)).authors == ["Chuck Ross"]
    staff = _extract(
        _page('<meta property="og:site_name" content="Harbour News">', _ld(author="Harbour News Staff"))
    )
    assert staff.authors == [] and staff.credit == ["Harbour News Staff"] and staff.author is None


def test_bylines_from_meta_tags_and_the_page() -> None:
    meta = _extract(_page('<meta name="author" content="By Jane Doe and John Roe | Harbour News">'))
    assert meta.authors == ["Jane Doe", "John Roe"]
    slugs = _extract(_page('<meta name="author" content="jane-doe"><meta name="author" content="Jane Doe">'))
    assert slugs.authors == ["Jane Doe"]
    visible = _extract(
        _page(article_head='<p class="byline">Von <span>Eva Kirchner-Rätsch</span> und AFP</p>')
    )
    assert visible.authors == ["Eva Kirchner-Rätsch"] and visible.credit == ["AFP"]


def test_split_names() -> None:
    assert split_names("By A. Smith, B. Jones & C. Brown") == ["A. Smith", "B. Jones", "C. Brown"]
    assert split_names("Von Anna Martel und Lea Wagner") == ["Anna Martel", "Lea Wagner"]
    assert split_names("Luigi Di Maio") == ["Luigi Di Maio"]
    assert split_names("https://news.example/author/x") == []


def test_paywall_markup_and_truncation() -> None:
    assert _extract(_page()).access == "unknown"
    assert _extract(_page(ld=_ld(isAccessibleForFree=True))).access == "free"
    paywalled = _extract(_page(ld=_ld(isAccessibleForFree="False")))
    assert paywalled.access == "paywalled" and not paywalled.truncated
    parts = _ld(
        isAccessibleForFree=True,
        hasPart={"@type": "WebPageElement", "isAccessibleForFree": False, "cssSelector": ".paywalled"},
    )
    assert _extract(_page(ld=parts)).access == "paywalled"
    words = len(_extract(_page()).text.split())
    assert not _extract(_page(ld=_ld(wordCount=words + 10))).truncated
    assert _extract(_page(ld=_ld(wordCount=2 * words))).truncated
    prompt = _extract(_page(tail="<p>Subscribe to continue reading this article.</p>"))
    assert prompt.truncated and "Subscribe" not in prompt.text


def test_fetch_time_may_be_aware() -> None:
    html = _page(ld=_ld(datePublished="2026-06-01T13:00:00+02:00"))  # 11:00Z
    assert _extract(html, datetime(2026, 6, 1, 11, 5, tzinfo=UTC)).published == "2026-06-01T13:00:00+02:00"
    assert _extract(html, datetime(2026, 5, 31, 8, 0, tzinfo=UTC)).published is None
