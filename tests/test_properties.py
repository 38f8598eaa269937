"""Property-based tests (hypothesis) of decoding, extraction, language tagging and the seed check:
arbitrary bytes and arbitrary HTML never raise and never hang (each example runs under an alarm),
no control character comes out, and the clean text is made of text that was in the page.

(That clean text holds no markup is tests/test_clean_text_properties.py.)
"""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from html import escape, unescape
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.check import ArchivedArticle, SeedError, TextSeed, UrlSeed, compare, read_seed, render
from crawler.extract import decode_html, explain, extract
from crawler.items import Article
from crawler.lang import detect_language
from crawler.text import CONTROL_CHARS, WORD_RE

# Derandomized: the same examples on every run (a failure is reproducible, CI never flakes on a new one).
SETTINGS = settings(
    max_examples=200,
    deadline=timedelta(seconds=20),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
BOUND_SECONDS = 30  # a hang fails the example (SIGALRM), however slow the machine
CONTROL_RE = re.compile(f"[{CONTROL_CHARS}\r]")
TAG_RE = re.compile(r"<[^>]*>")


@contextmanager
def bounded(seconds: int = BOUND_SECONDS) -> Iterator[None]:
    def expired(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"no result within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


CONTENT_TYPES = st.sampled_from(
    [
        None,
        "text/html",
        "text/html; charset=utf-8",
        "text/html; charset=ISO-8859-1",
        "text/html; charset=windows-1251",
        "text/html; charset=gbk",
        "text/html; charset=shift_jis",
        "text/html; charset=utf-16",
        "text/html; charset=utf-32",
        "text/html; charset=x-bogus",
        "text/html; charset=",
    ]
)
BOMS = st.sampled_from(
    [b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"]
)
# Bytes that look like a page often enough: HTML around arbitrary bytes, a meta charset now and then.
PAGE_BYTES = st.tuples(
    BOMS,
    st.sampled_from([b"", b"<html><head>", b'<html><head><meta charset="euc-kr">', b"<meta charset=utf-16>"]),
    st.binary(max_size=3000),
    st.sampled_from([b"", b"<p>", b"</p></body></html>"]),
).map(b"".join)


def _joined(word: str, page_words: set[str]) -> bool:
    """Whether ``word`` is two or more whole words of the page run together."""
    ends = {0}
    for i in range(1, len(word) + 1):
        if any(word[j:i] in page_words for j in ends if (j, i) != (0, len(word))):
            ends.add(i)
    return len(word) in ends


def _words_in(text: str, haystacks: list[str]) -> list[str]:
    """The words of ``text`` found in none of ``haystacks``, nor made of whole words of theirs run
    together: trafilatura loses the space at some element boundaries (a <pre> then a stray <li>, a
    link in loose text: see the xfail test below), which joins two words of the page, but invents
    nothing."""
    page_words = {w for h in haystacks for w in WORD_RE.findall(h)}
    return [
        w for w in WORD_RE.findall(text) if not any(w in h for h in haystacks) and not _joined(w, page_words)
    ]


def _check_article(article: Article, haystacks: list[str]) -> None:
    for value in (article.title, article.lede, article.body, article.author, article.site_name):
        assert value is None or not CONTROL_RE.search(value), repr(value)
    missing = _words_in(article.text, haystacks)
    assert not missing, missing[:10]
    assert article.lang is None or re.fullmatch(r"[a-z]{2,3}", article.lang)


# --- decoding ---------------------------------------------------------------------------------


@SETTINGS
@given(body=PAGE_BYTES, content_type=CONTENT_TYPES)
def test_any_bytes_decode_to_text_without_control_characters(body, content_type):
    with bounded():
        text = decode_html(body, content_type)
    assert isinstance(text, str)
    assert not re.search(f"[{CONTROL_CHARS}]", text)
    text.encode("utf-8")  # no lone surrogate


_FRENCH = st.sampled_from(
    [
        "le",
        "la",
        "les",
        "un",
        "une",
        "des",
        "été",
        "café",
        "déjà",
        "très",
        "où",
        "à",
        "près",
        "forêt",
        "élève",
        "garçon",
        "noël",
        "naïve",
        "cœur",
        "grève",
        "député",
        "réforme",
        "année",
        "économie",
        "société",
        "journée",
        "hôpital",
        "théâtre",
        "marché",
    ]
)
_RUSSIAN = st.sampled_from(
    [
        "город",
        "совет",
        "бюджет",
        "год",
        "расходы",
        "образование",
        "здравоохранение",
        "строительство",
        "линия",
        "метро",
        "весна",
        "новый",
        "утвердил",
        "вырастут",
        "начнётся",
        "жители",
        "района",
    ]
)
_CHINESE = st.sampled_from(
    [
        "国务院",
        "今天",
        "发布",
        "关于",
        "经济",
        "发展",
        "政策",
        "专家",
        "认为",
        "措施",
        "就业",
        "居民",
        "收入",
        "城市",
        "交通",
    ]
)


@SETTINGS
@given(
    case=st.sampled_from(
        [
            ("windows-1252", _FRENCH, " "),
            ("windows-1251", _RUSSIAN, " "),
            ("gbk", _CHINESE, ""),
            ("utf-8", _RUSSIAN, " "),
        ]
    ),
    data=st.data(),
    where=st.sampled_from(["header", "meta", "both"]),
)
def test_text_in_a_declared_charset_decodes_to_itself(case, data, where):
    charset, words, sep = case
    text = sep.join(data.draw(st.lists(words, min_size=1, max_size=40)))
    meta = f'<meta charset="{charset}">' if where != "header" else ""
    body = f"<html><head>{meta}</head><body><p>{text}</p></body></html>".encode(charset)
    header = f"text/html; charset={charset}" if where != "meta" else None
    with bounded():
        assert text in decode_html(body, header)


# --- extraction -------------------------------------------------------------------------------


@SETTINGS
@given(body=PAGE_BYTES, content_type=CONTENT_TYPES)
def test_extraction_of_any_bytes_never_raises_and_invents_nothing(body, content_type):
    with bounded():
        result = explain(body, "http://x.test/2026/01/story.html", content_type=content_type)
    if isinstance(result, Article):
        page = decode_html(body, content_type)
        _check_article(result, [unescape(page), unescape(TAG_RE.sub("", page))])


# Words in several scripts, with "&" and quotes to escape; no "<" or ">": text that spells a tag is
# read as markup the page escaped (crawler.extract.decode.html_text), and its words may then join.
_word = st.text(
    alphabet=st.sampled_from(
        "abcdefghijklmnopqrstuvwxyzäéñßабвгдежзकखगघ国务院经济日本語한국어0123456789&\"'"
    ),
    min_size=1,
    max_size=9,
)
# A text chunk: space-padded, so that no two chunks can join into a word the page does not have.
_chunk = st.lists(_word, min_size=1, max_size=25).map(lambda ws: " " + escape(" ".join(ws)) + " ")
_CONTAINERS = ["div", "article", "section", "main", "blockquote", "ul", "table"]
_BLOCKS = ["p", "li", "h1", "h2", "h3", "td", "blockquote", "pre"]
_INLINE = ["a", "b", "em", "span", "strong", "i", "script", "abbr"]
_ATTRS = st.sampled_from(["", ' class="story"', ' class="nav menu"', ' href="/a"', ' id="x"'])
# Now and then an element left open or a stray end tag: tag soup.
_CLOSE = [True, True, True, False]


@st.composite
def _inline(draw: st.DrawFn, depth: int = 0) -> str:
    """The text of a paragraph: chunks, and inline elements holding chunks."""
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        if depth < 2 and draw(st.booleans()):
            tag = draw(st.sampled_from(_INLINE))
            close = f"</{tag}>" if draw(st.sampled_from(_CLOSE)) else ""
            parts.append(f"<{tag}{draw(_ATTRS)}>{draw(_inline(depth + 1))}{close}")
        else:
            parts.append(draw(_chunk))
    return "".join(parts)


@st.composite
def _tree(draw: st.DrawFn, depth: int = 0) -> str:
    """Blocks (paragraphs, items, headings, cells...) of text inside nested containers.

    Text and inline elements lie inside blocks only.
    """
    parts = []
    for _ in range(draw(st.integers(1, 5 if depth < 3 else 2))):
        if depth < 4 and draw(st.booleans()):
            tag = draw(st.sampled_from(_CONTAINERS))
            close = f"</{tag}>" if draw(st.sampled_from(_CLOSE)) else draw(st.sampled_from(["", "</div>"]))
            parts.append(f"<{tag}{draw(_ATTRS)}>{draw(_tree(depth + 1))}{close}")
        else:
            tag = draw(st.sampled_from(_BLOCKS))
            close = f"</{tag}>" if draw(st.sampled_from(_CLOSE)) else ""
            parts.append(f"<{tag}{draw(_ATTRS)}>{draw(_inline())}{close}")
    return "".join(parts)


@st.composite
def _page(draw: st.DrawFn) -> str:
    title = draw(_chunk)
    head = f"<title>{title}</title>"
    if draw(st.booleans()):
        head += f'<meta property="og:title" content="{draw(_chunk).strip()}">'
    if draw(st.booleans()):
        head += '<meta property="og:type" content="article">'
    return f"<!DOCTYPE html><html><head>{head}</head><body>{draw(_tree())}</body></html>"


@settings(SETTINGS, max_examples=100)
@given(page=_page(), as_bytes=st.booleans())
def test_extraction_of_any_html_never_raises_and_keeps_only_the_pages_words(page, as_bytes):
    with bounded():
        article = extract(page.encode("utf-8") if as_bytes else page, "http://x.test/2026/01/story.html")
    if article is not None:
        _check_article(article, [unescape(page)])


# --- language tagging -------------------------------------------------------------------------


@SETTINGS
@given(text=st.text(max_size=3000), declared=st.sampled_from([None, "en", "zz", "hi-IN", "", "x" * 40]))
def test_language_tagging_never_raises(text, declared):
    with bounded():
        lang, conf, source = detect_language(text, declared)
    if lang is None:
        assert conf is None and source is None
    else:
        assert re.fullmatch(r"[a-z]{2,3}", lang) and 0.0 <= conf <= 1.0 and isinstance(source, str)


# --- seed check -------------------------------------------------------------------------------


@SETTINGS
@given(
    data=st.binary(max_size=2000) | st.text(max_size=2000).map(lambda t: t.encode("utf-8", "surrogatepass"))
)
def test_any_seed_file_is_read_or_refused_with_a_seed_error(tmp_path_factory, data):
    path = Path(tmp_path_factory.mktemp("seed")) / "seed.txt"
    path.write_bytes(data)
    with bounded():
        try:
            seed = read_seed(path)
        except SeedError as exc:
            assert str(exc)
            return
    assert isinstance(seed, TextSeed | UrlSeed)


_line = st.lists(_word, min_size=1, max_size=20).map(" ".join)


@SETTINGS
@given(
    title=_line,
    lines=st.lists(_line, min_size=1, max_size=12),
    other=st.lists(st.text(max_size=200), max_size=6),
    same=st.booleans(),
)
def test_seed_check_never_raises_and_finds_every_line_of_its_own_article(title, lines, other, same):
    seed = TextSeed("seed.txt", title, 1, tuple((n + 2, line) for n, line in enumerate(lines)))
    body = "\n\n".join(lines if same else other)
    article = ArchivedArticle(1, "http://x.test/a.html", title if same else None, None, body)
    with bounded():
        report = compare(seed, article)
        rendered = render(report)
    assert all(isinstance(line, str) for line in rendered)
    json.dumps(report.to_dict())
    if same:
        assert all(result.present for result in report.lines), [r for r in report.lines if not r.present]


@pytest.mark.parametrize("text", ["", " ", "\x00" * 10, "🙂" * 500])
def test_language_tagging_of_degenerate_texts(text):
    assert detect_language(text)[0] is None


@pytest.mark.xfail(
    strict=True,
    reason="trafilatura (links on) trims links' text and tails outside <p>: '<div><a> alpha </a> beta' gives"
    " <ref>alpha</ref>beta (upstream: adbar/trafilatura#661, tails' spacing), and crawler/extract/blocks.py"
    " unwraps the ref into 'alphabeta'; found by the property above",
)
@pytest.mark.parametrize(
    "fragment",
    [
        "<div><a href='/x'> alpha </a> beta </div>",
        "<td><a> alpha </a><a> beta </a> gamma</td>",
    ],
)
def test_link_text_keeps_its_spaces(fragment):
    prose = " Some words are here to make the page long enough for an article and more. " * 3
    page = (
        f"<html><head><title>T</title></head><body><article><p>{prose}</p>"
        f"{fragment}<p>{prose}</p></article></body></html>"
    )
    article = extract(page, "http://x.test/2026/01/story.html")
    assert article is not None and "alpha" in article.text and "alphabeta" not in article.text
