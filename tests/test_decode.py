"""decode_html: a page's bytes to text, each rule of the order (BOM, a header the bytes agree with,
<meta>, a sniffer) on bytes made here, and no control character ever in the text, the clean text or
an export."""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from archive.db import make_engine, make_sessionmaker
from archive.export import DEFAULT_FIELDS, export
from archive.models import Article as ArticleRow
from crawler.extract import decode_html, extract
from crawler.text import CONTROL_CHARS, clean_text

CONTROL_RE = re.compile(f"[{CONTROL_CHARS}\r]")

ZH = (
    "国务院今天发布了关于促进经济发展的新政策。专家认为，这些措施将有助于扩大就业，"
    "提高居民收入，并推动制造业和服务业的转型升级。地方政府表示将尽快落实相关规定。"
)
RU = (
    "Городской совет утвердил новый бюджет на следующий год. Расходы на образование и "
    "здравоохранение вырастут, а строительство новой линии метро начнётся весной."
)
JA = "日本政府は本日、経済発展に関する新しい政策を発表しました。専門家は雇用を促進すると述べています。"
KO = "대한민국 정부는 오늘 경제 발전에 관한 새로운 정책을 발표했습니다. 전문가들은 고용을 촉진할 것이라고 말했습니다."
FR = "Le conseil municipal a approuvé le budget : les dépenses d'éducation et de santé augmenteront."


def page(text: str, head: str = "") -> str:
    """An article page around ``text`` (repeated into paragraphs long enough to be an article)."""
    paragraphs = "".join(f"<p>{text} ({i})</p>\n" for i in range(4))
    return (
        f"<!DOCTYPE html>\n<html><head>{head}<title>T</title></head>"
        f"<body><article><h1>Headline</h1>\n{paragraphs}</article></body></html>"
    )


@pytest.mark.parametrize(
    ("text", "encoding"),
    [(ZH, "gbk"), (ZH, "gb18030"), (JA, "shift_jis"), (JA, "euc_jp"), (KO, "euc_kr"), (ZH, "big5")],
)
@pytest.mark.parametrize("header", ["ISO-8859-1", "latin-1", "windows-1252"])
def test_cjk_bytes_under_a_latin1_header_are_read_as_what_they_are(text, encoding, header):
    if encoding == "big5":
        text = "國務院今天發布了關於促進經濟發展的新政策。專家認為，這些措施將有助於擴大就業，提高居民收入。"
    body = page(text).encode(encoding)
    assert text in decode_html(body, f"text/html; charset={header}")


def test_gbk_page_with_a_lying_header_is_archived_in_chinese():
    body = page(ZH).encode("gbk")
    article = extract(body, "http://zh.test/2026/news.html", content_type="text/html; charset=ISO-8859-1")
    assert article is not None
    assert ZH in article.body
    assert article.lang == "zh"


def test_a_meta_charset_alone_is_used():
    body = page(RU, '<meta charset="windows-1251">').encode("cp1251")
    assert RU in decode_html(body)
    assert RU in decode_html(body, "text/html")  # a header without a charset says nothing
    http_equiv = page(RU, '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">')
    assert RU in decode_html(http_equiv.encode("cp1251"))


def test_a_header_that_fits_beats_the_meta():
    # The page says UTF-8, the server (right) says windows-1251.
    body = page(RU, '<meta charset="utf-8">').encode("cp1251")
    assert RU in decode_html(body, "text/html; charset=windows-1251")
    # A true Latin-1 page under a Latin-1 header stays Latin-1 (its bytes are not valid UTF-8).
    assert FR in decode_html(page(FR).encode("latin-1"), "text/html; charset=ISO-8859-1")


def test_a_utf8_header_over_other_bytes_loses_to_the_meta():
    body = page(RU, '<meta charset="windows-1251">').encode("cp1251")
    assert RU in decode_html(body, "text/html; charset=utf-8")


def test_utf8_bytes_under_a_single_byte_header_are_utf8():
    for text in (FR, RU, ZH):
        assert text in decode_html(page(text).encode("utf-8"), "text/html; charset=ISO-8859-1")
        assert text in decode_html(page(text, '<meta charset="iso-8859-1">').encode("utf-8"))


@pytest.mark.parametrize(("text", "encoding"), [(RU, "cp1251"), (ZH, "gbk"), (RU, "koi8_r"), (FR, "utf-8")])
def test_no_charset_anywhere_is_sniffed(text, encoding):
    assert text in decode_html(page(text).encode(encoding))


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("utf-32-le", b"\xff\xfe\x00\x00"),
        ("utf-32-be", b"\x00\x00\xfe\xff"),
    ],
)
def test_a_bom_wins_over_header_and_meta(encoding, bom):
    body = bom + page(RU + " " + ZH, '<meta charset="windows-1251">').encode(encoding)
    text = decode_html(body, "text/html; charset=ISO-8859-1")
    assert RU in text and ZH in text
    assert not text.startswith("\ufeff")
    article = extract(body, "http://x.test/2026/story.html", content_type="text/html; charset=ISO-8859-1")
    assert article is not None and RU in article.body


def test_utf16_declared_without_bom():
    body = page(RU).encode("utf-16-le")
    assert RU in decode_html(body, "text/html; charset=utf-16")
    # A UTF-16 label over bytes with no NUL is not UTF-16 (HTML reads such a meta as UTF-8).
    assert RU in decode_html(page(RU, '<meta charset="utf-16">').encode("utf-8"))


def test_invalid_sequences_are_replaced_and_the_rest_kept():
    body = page(RU).encode("utf-8").replace("совет".encode(), b"\xff\xfe\xc3", 1)
    text = decode_html(body, "text/html; charset=utf-8")
    assert "\ufffd" in text
    assert "утвердил новый бюджет" in text
    # The same with no charset declared: still UTF-8 (a few bad bytes do not make it another charset).
    assert "утвердил новый бюджет" in decode_html(body)
    # A charset Python does not know is ignored.
    assert RU in decode_html(page(RU).encode("cp1251"), "text/html; charset=x-no-such-charset")


CONTROLS = "".join(chr(c) for c in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)))


def _with_controls(text: str) -> str:
    """``text`` with every control character and references to them strewn between its words."""
    words = text.split()
    refs = ["&#1;", "&#x0B;", "&#0000031;", "&#127;", "&#x1f;", "&#8;"]
    out = []
    for i, word in enumerate(words):
        out.append(word + CONTROLS[i % len(CONTROLS)] + refs[i % len(refs)])
    return " ".join(out)


def test_no_control_character_reaches_decoded_or_clean_text():
    dirty = _with_controls(FR + " " + RU)
    for body in (page(dirty).encode("utf-8"), page(dirty).encode("utf-16"), page(dirty)):
        text = decode_html(body)
        assert not re.search(f"[{CONTROL_CHARS}]", text)
        assert "&#1;" not in text and "&#127;" not in text
    # The titles, metadata and JSON-LD of a page: escapes in JSON give controls after parsing.
    ld = json.dumps(
        {"@type": "NewsArticle", "headline": "Head\u0000line\u0007", "author": {"name": "A\u0001B"}}
    )
    html = page(dirty, f'<script type="application/ld+json">{ld}</script>').replace("\n", "\r\n")
    article = extract(html.encode("utf-8"), "http://x.test/2026/story.html")
    assert article is not None
    for value in (article.title, article.lede, article.body, article.author, article.text):
        assert value is None or not CONTROL_RE.search(value), repr(value)
    assert "Le conseil municipal" in article.body and "Городской совет" in article.body
    assert clean_text("a\x00b\x0cc\r\nd\x85e") == "ab c\nd e"


def test_no_control_character_in_any_export(tmp_path: Path):
    """Even a row stored with controls (by an older version) exports without them, in every format."""
    url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = make_engine(url)
    dirty = "Body\x00 with\x01 controls\x1b[31m and\x85 C1\x9f.\r\nSecond\x0bline."
    with make_sessionmaker(engine).begin() as session:
        session.add(
            ArticleRow(
                url="http://x.test/a.html",
                domain="x.test",
                title="Ti\x07tle",
                lede="Le\x00de",
                body=dirty,
                word_count=9,
                author="A\x02uthor",
                fetched_at=datetime(2026, 1, 1),
                content_hash="h",
            )
        )
    engine.dispose()
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        for fmt in ("jsonl", "csv", "parquet"):
            out = tmp_path / f"out.{fmt}"
            export(session, out, fmt, fields=DEFAULT_FIELDS)
            if fmt == "jsonl":
                records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
            elif fmt == "csv":
                with out.open(encoding="utf-8", newline="") as fh:
                    records = list(csv.DictReader(fh))
            else:
                records = pq.read_table(out).to_pylist()
            assert len(records) == 1
            for name, value in records[0].items():
                if isinstance(value, str):
                    assert not re.search(f"[{CONTROL_CHARS}]", value), (fmt, name, value)
            assert "controls" in records[0]["text"] and "Second" in records[0]["text"]
            if fmt != "parquet":  # a text file holds none either (Parquet is binary)
                assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", out.read_bytes()), fmt
    engine.dispose()
