"""URL rules: the links found in a page's raw bytes, site identity."""

from __future__ import annotations

from lxml import html as lxml_html

from crawler.urls import page_links, same_site

PAGE = b"""<!DOCTYPE html><html><head><title>t</title>
<script>var s = '<a href="/in-script">x</a>';</script>
<style>a[href="/in-style"] { color: red }</style>
</head><body>
<!-- <a href="/in-comment">old menu</a> -->
<nav><a class="x" href="/world/">World</a> <A HREF='/sport/'>Sport</A> <a href=/city/ >City</a></nav>
<a data-href="/not-a-link" href="relative.html">rel</a>
<a href="https://other.example/x">other</a>
<a href="/world/">World again</a>
<a href="/search?q=a&amp;page=2">entity</a>
<a href="  /spaced/  ">spaced</a>
<a name="anchor">no href</a>
<SCRIPT type="text/javascript">document.write('<a href="/written">w</a>')</SCRIPT>
<a href="/after-script">after</a>
</body></html>"""


def test_page_links_finds_anchors_outside_comments_scripts_and_styles() -> None:
    links = page_links(PAGE, "http://news.test/2026/story.html")
    assert links == [
        "http://news.test/world/",
        "http://news.test/sport/",
        "http://news.test/city/",
        "http://news.test/2026/relative.html",
        "https://other.example/x",
        "http://news.test/search?q=a&page=2",
        "http://news.test/spaced/",
        "http://news.test/after-script",
    ]


def test_page_links_agree_with_an_html_parser() -> None:
    tree = lxml_html.document_fromstring(PAGE)
    tree.make_links_absolute("http://news.test/2026/story.html", resolve_base_href=True)
    parsed = list(dict.fromkeys(a.get("href").strip() for a in tree.iter("a") if a.get("href") is not None))
    assert page_links(PAGE, "http://news.test/2026/story.html") == parsed


def test_page_links_follow_base_href_and_charset() -> None:
    page = '<html><head><base href="https://cdn.news.test/de/"></head><body><a href="straße.html">x</a>'
    links = page_links(page.encode("latin-1"), "http://news.test/a", "text/html; charset=iso-8859-1")
    assert links == ["https://cdn.news.test/de/straße.html"]
    assert page_links(b"<html><body>no links</body></html>", "http://news.test/") == []
    # An unterminated comment hides the rest of the page, as it does for a browser.
    assert page_links(b'<a href="/a">a</a><!-- <a href="/b">b</a>', "http://news.test/") == [
        "http://news.test/a"
    ]


def test_same_site_compares_host_and_port() -> None:
    assert same_site("http://www.news.test/a", "http://news.test/b")
    assert not same_site("http://news.test:8080/a", "http://news.test/b")
    assert not same_site("http://news.test/a", "http://other.test/a")
    assert not same_site("http://news.test:notaport/a", "http://news.test/a")
