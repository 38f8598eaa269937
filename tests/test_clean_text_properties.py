"""Clean text never holds markup: no tag, no character reference, in any title, lede or body.

Property-based (hypothesis) over generated pages whose text has no markup characters of its own, so
that any ``<tag>`` or ``&name;`` in the output can only be markup that leaked through (JSON-LD fields
holding HTML, references escaped twice); and over every page of the shared corpora.
"""

from __future__ import annotations

import gzip
import json
from html import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.extract import extract
from crawler.text import MARKUP_RE
from tests.conftest import shared_path

MARKUP = MARKUP_RE

# Words in several scripts, none holding a markup character.
_word = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzäéñßабвгдежзकखगघचछजटडतदनपबमयरलवसह"),
    min_size=1,
    max_size=9,
)
_sentence = st.lists(_word, min_size=4, max_size=18).map(lambda ws: " ".join(ws).capitalize() + ".")
_paragraph = st.lists(_sentence, min_size=1, max_size=4).map(" ".join)


def _as_html_body(paragraphs: list[str], heading: str) -> str:
    """A JSON-LD articleBody as some sites write it: HTML paragraphs, links and subheadings."""
    link = ' <a href="/x">'
    parts = [f"<p>{p.replace(' ', link, 1)}</a></p>" for p in paragraphs]
    parts.insert(1, f"<h3>{heading}</h3>")
    return "".join(parts)


@st.composite
def pages(draw: st.DrawFn) -> str:
    paragraphs = draw(st.lists(_paragraph, min_size=1, max_size=8))
    headline = draw(_sentence)
    heading = draw(_sentence)
    wrapper = draw(st.sampled_from(["article", "div", "section", "td", "main"]))
    ld_body = _as_html_body(paragraphs, heading)
    if draw(st.booleans()):
        ld_body = escape(ld_body)  # escaped HTML inside the JSON string
    ld = {
        "@context": "https://schema.org",
        "@type": draw(st.sampled_from(["NewsArticle", "Article", "BlogPosting", "WebPage"])),
        "headline": draw(
            st.sampled_from([headline, f"<b>{headline}</b>", escape(escape(headline + " & co"))])
        ),
        "articleBody": ld_body,
        "description": f"<p>{paragraphs[0]}</p>",
        "author": {"@type": "Person", "name": draw(st.sampled_from(["Jane &amp; John", "<i>Ann Lee</i>"]))},
    }
    og_title = escape(escape(headline + " & more"))  # "&amp;amp;" in the attribute
    body_html = "".join(f"<p>{escape(p)}</p>" for p in draw(st.lists(_paragraph, min_size=0, max_size=3)))
    nav = "".join(
        f'<li><a href="/s/{i}">{escape(w)}</a></li>' for i, w in enumerate(draw(st.lists(_word, max_size=6)))
    )
    return (
        f'<html><head><meta property="og:title" content="{og_title}">'
        f'<script type="application/ld+json">{json.dumps(ld)}</script></head>'
        f"<body><nav><ul>{nav}</ul></nav><{wrapper}><h1>{escape(headline)}</h1>{body_html}</{wrapper}></body></html>"
    )


def _assert_clean(html: str | bytes, content_type: str | None = None) -> None:
    art = extract(html, "http://example.org/a/1", content_type=content_type)
    if art is None:
        return
    for name in ("title", "lede", "body", "author"):
        value = getattr(art, name) or ""
        found = MARKUP.search(value)
        assert found is None, f"{name} holds markup {found.group(0)!r}: {value[:300]!r}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pages())
def test_generated_pages_give_text_without_markup(page: str) -> None:
    _assert_clean(page)


def test_json_ld_article_body_of_html_becomes_paragraphs_of_text() -> None:
    paragraphs = [
        "The harbour board voted on Monday to rebuild the old pier before the summer season begins.",
        "Work starts in March and the pier should reopen to walkers and anglers by the end of June.",
    ] * 6
    ld = {
        "@type": "NewsArticle",
        "headline": "Pier &amp;amp; harbour",
        "articleBody": _as_html_body(paragraphs, "Costs"),
    }
    page = (
        f'<html><head><script type="application/ld+json">{json.dumps(ld)}</script></head>'
        f"<body><article><h1>Pier</h1><p>{paragraphs[0]}</p></article></body></html>"
    )
    art = extract(page)
    assert art is not None
    assert "<" not in art.text and "&" not in art.text
    assert "rebuild the old pier" in art.text


@pytest.mark.slow
@pytest.mark.parametrize("corpus", ["corpus-dev", "corpus-dev-older"])
def test_corpus_pages_give_text_without_markup(corpus: str) -> None:
    root = shared_path(corpus)
    for line in (root / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        raw = gzip.decompress((root / "pages" / f"{rec['id']}.html.gz").read_bytes())
        charset = rec.get("charset")
        _assert_clean(raw, f"text/html; charset={charset}" if charset else None)
