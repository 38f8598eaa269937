"""The local site server (crawler.siteserver) and the bundled sample site it serves."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import urllib.error
import urllib.request
import urllib.robotparser
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

from crawler.sample_site import SITE_DIR, load_manifest
from crawler.siteserver import SiteServer, serve_directory

REPO_ROOT = Path(__file__).resolve().parent.parent


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, dict, bytes]:
    """GET ``url``; returns (status, headers, body) for any status, errors included."""
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, dict(exc.headers), exc.read()


@pytest.fixture
def tiny_site(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text('<a href="{{BASE}}/news/a.html">A</a> ü', encoding="utf-8")
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "index.html").write_text("<h1>News</h1>", encoding="utf-8")
    (tmp_path / "news" / "a.html").write_text("<h1>A</h1>", encoding="utf-8")
    (tmp_path / "sitemap.xml").write_text("<urlset><url><loc>{{BASE}}/news/a.html</loc></url></urlset>")
    (tmp_path / "feed.xml").write_text("<rss><channel><link>{{BASE}}/</link></channel></rss>")
    (tmp_path / "s.xml.gz").write_bytes(gzip.compress(b"<urlset><loc>{{BASE}}/x</loc></urlset>"))
    (tmp_path / "doc.pdf").write_bytes(b"%PDF-1.4 {{BASE}}")
    return tmp_path


@pytest.fixture
def tiny_server(tiny_site: Path) -> Iterator[SiteServer]:
    with serve_directory(tiny_site) as server:
        yield server


def test_base_token_replaced_in_text_files(tiny_server: SiteServer) -> None:
    status, headers, body = fetch(tiny_server.url + "/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert body.decode("utf-8") == f'<a href="{tiny_server.url}/news/a.html">A</a> ü'
    assert int(headers["Content-Length"]) == len(body)
    _, _, sitemap = fetch(tiny_server.url + "/sitemap.xml")
    assert f"<loc>{tiny_server.url}/news/a.html</loc>".encode() in sitemap


def test_gzip_sitemap_served_raw_with_base_replaced(tiny_server: SiteServer) -> None:
    status, headers, body = fetch(tiny_server.url + "/s.xml.gz")
    assert status == 200
    assert headers["Content-Type"] == "application/gzip"
    assert "Content-Encoding" not in headers
    assert gzip.decompress(body) == f"<urlset><loc>{tiny_server.url}/x</loc></urlset>".encode()


def test_binary_files_untouched_and_typed(tiny_server: SiteServer) -> None:
    status, headers, body = fetch(tiny_server.url + "/doc.pdf")
    assert (status, headers["Content-Type"], body) == (200, "application/pdf", b"%PDF-1.4 {{BASE}}")
    assert fetch(tiny_server.url + "/feed.xml")[1]["Content-Type"] == "application/rss+xml"
    assert fetch(tiny_server.url + "/sitemap.xml")[1]["Content-Type"] == "application/xml"


def test_conditional_requests_get_304(tiny_server: SiteServer) -> None:
    url = tiny_server.url + "/news/a.html"
    status, headers, _ = fetch(url)
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    assert status == 200 and etag.startswith('"')
    status, _, body = fetch(url, {"If-None-Match": etag})
    assert (status, body) == (304, b"")
    assert fetch(url, {"If-None-Match": '"other"'})[0] == 200
    assert fetch(url, {"If-Modified-Since": last_modified})[0] == 304
    assert fetch(url, {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})[0] == 200


def test_etag_changes_with_content(tiny_site: Path, tiny_server: SiteServer) -> None:
    url = tiny_server.url + "/news/a.html"
    etag = fetch(url)[1]["ETag"]
    (tiny_site / "news" / "a.html").write_text("<h1>A, corrected</h1>", encoding="utf-8")
    status, headers, body = fetch(url, {"If-None-Match": etag})
    assert status == 200 and body == b"<h1>A, corrected</h1>"
    assert headers["ETag"] != etag


def test_missing_paths_404_and_directories(tiny_server: SiteServer) -> None:
    assert fetch(tiny_server.url + "/nope.html")[0] == 404
    assert fetch(tiny_server.url + "/../../etc/passwd")[0] == 404
    status, _, body = fetch(tiny_server.url + "/news/")
    assert (status, body) == (200, b"<h1>News</h1>")
    status, _, body = fetch(tiny_server.url + "/news")  # redirected to /news/
    assert (status, body) == (200, b"<h1>News</h1>")
    assert tiny_server.hits[("GET", "/news", 301)] == 1


def test_hits_count_method_path_status(tiny_server: SiteServer) -> None:
    fetch(tiny_server.url + "/news/a.html")
    fetch(tiny_server.url + "/news/a.html")
    fetch(tiny_server.url + "/news/a.html", method="HEAD")
    fetch(tiny_server.url + "/missing")
    assert tiny_server.hits[("GET", "/news/a.html", 200)] == 2
    assert tiny_server.hits[("HEAD", "/news/a.html", 200)] == 1
    assert tiny_server.hits[("GET", "/missing", 404)] == 1
    assert tiny_server.hits_for("/news/a.html") == 2


def test_server_is_closed_after_the_block(tiny_site: Path) -> None:
    with serve_directory(tiny_site) as server:
        url = server.url
        assert fetch(url + "/")[0] == 200
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/", timeout=2)


def test_subprocess_mode_prints_url_first(tiny_site: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler.siteserver", str(tiny_site)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        status, _, body = fetch(url + "/")
        assert status == 200 and f"{url}/news/a.html".encode() in body
    finally:
        proc.terminate()
        proc.communicate(timeout=5)
    assert proc.stderr is not None


def test_subprocess_mode_bad_directory_is_one_line_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "crawler.siteserver", str(tmp_path / "absent")],
        cwd=REPO_ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "absent" in result.stderr


# ---------------------------------------------------------------- the bundled sample site

SEED_FILE = REPO_ROOT.parent / "shared" / "seeds" / "000_4c5de6273566716c.txt"
HINDI_FIXTURE = REPO_ROOT / "tests" / "fixtures" / "hindi_seed_expected.json"
_BLOCK_TAGS = {
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "aside",
    "header",
    "footer",
    "nav",
    "main",
    "figure",
    "figcaption",
    "button",
    "form",
    "br",
    "title",
    "body",
}
_LINK_ATTRS = {"a": "href", "link": "href", "img": "src", "script": "src"}


class _PageParser(HTMLParser):
    """Links (tag, url) and text lines (text split at block elements) of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self.lang: str | None = None
        self.h1: list[str] = []
        self._chunks: list[str] = []
        self._article_chunks: list[str] = []
        self._skip = 0
        self._in_h1 = False
        self._in_article = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang")
        if tag in _LINK_ATTRS and values.get(_LINK_ATTRS[tag]):
            self.links.append((tag, str(values[_LINK_ATTRS[tag]])))
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "h1":
            self._in_h1 = True
            self.h1.append("")
        if tag == "article":
            self._in_article += 1
        if tag in _BLOCK_TAGS:
            self._add("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        if tag == "h1":
            self._in_h1 = False
        if tag in _BLOCK_TAGS:
            self._add("\n")
        if tag == "article":
            self._in_article -= 1

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self._add(data)
        if self._in_h1:
            self.h1[-1] += data

    def _add(self, text: str) -> None:
        self._chunks.append(text)
        if self._in_article:
            self._article_chunks.append(text)

    def lines(self) -> list[str]:
        """The page's text lines, whitespace collapsed."""
        return [norm(line) for line in "".join(self._chunks).split("\n") if line.strip()]

    def article_lines(self) -> list[str]:
        """The text lines inside <article> elements."""
        return [norm(line) for line in "".join(self._article_chunks).split("\n") if line.strip()]


def norm(text: str) -> str:
    return " ".join(text.split())


def parse_page(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return parser


def _xml_root(body: bytes) -> ET.Element:
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    return ET.fromstring(body)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def sitemap_urls(base: str, sitemap_path: str) -> set[str]:
    """Page URLs listed under a sitemap or sitemap index (followed recursively)."""
    status, _, body = fetch(base + sitemap_path)
    assert status == 200, sitemap_path
    root = _xml_root(body)
    locs = [el.text.strip() for el in root.iter() if _local(el.tag) == "loc" and el.text]
    if _local(root.tag) == "sitemapindex":
        out: set[str] = set()
        for loc in locs:
            assert loc.startswith(base + "/"), loc
            out |= sitemap_urls(base, urlsplit(loc).path)
        return out
    return set(locs)


def feed_urls(base: str, feed_path: str) -> set[str]:
    """Item/entry links of an RSS 2.0 or Atom feed."""
    status, _, body = fetch(base + feed_path)
    assert status == 200, feed_path
    root = _xml_root(body)
    out = set()
    for el in root.iter():
        if _local(el.tag) not in ("item", "entry"):
            continue
        for child in el:
            if _local(child.tag) != "link":
                continue
            out.add((child.get("href") or child.text or "").strip())
    return out


@pytest.fixture(scope="module")
def manifest() -> dict:
    return load_manifest()


@pytest.fixture(scope="module")
def site() -> Iterator[SiteServer]:
    with serve_directory(SITE_DIR) as server:
        yield server


@pytest.fixture(scope="module")
def pages(site: SiteServer, manifest: dict) -> dict[str, _PageParser]:
    """Every HTML page of the site, fetched over HTTP and parsed, by URL path."""
    out = {}
    for path in [a["path"] for a in manifest["articles"]] + manifest["non_article_pages"]:
        url_path = path.removesuffix("index.html")
        status, headers, body = fetch(site.url + url_path)
        assert status == 200, path
        assert headers["Content-Type"] == "text/html; charset=utf-8", path
        html = body.decode("utf-8")
        assert "{{BASE}}" not in html
        out[url_path] = parse_page(html)
    return out


def internal_path(site: SiteServer, page_path: str, href: str) -> str | None:
    url = urldefrag(urljoin(site.url + page_path, href)).url
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != site.url:
        return None
    return parts.path


def test_manifest_lists_every_html_file(manifest: dict) -> None:
    on_disk = {"/" + p.relative_to(SITE_DIR).as_posix() for p in SITE_DIR.rglob("*.html")}
    listed = [a["path"] for a in manifest["articles"]] + manifest["non_article_pages"]
    assert len(listed) == len(set(listed))
    assert set(listed) == on_disk
    for entry in manifest["non_html"]:
        assert (SITE_DIR / entry["path"].lstrip("/")).is_file(), entry


def test_articles_match_manifest(pages: dict[str, _PageParser], manifest: dict) -> None:
    for article in manifest["articles"]:
        page = pages[article["path"]]
        assert page.lang == article["lang"], article["path"]
        assert [norm(t) for t in page.h1] == [norm(article["title"])], article["path"]
        body_lines = [line for line in page.lines() if len(line) > 80]
        assert len(body_lines) >= 4, f"{article['path']}: too little article text"


def test_site_covers_languages_and_scripts(manifest: dict) -> None:
    langs = Counter(a["lang"] for a in manifest["articles"])
    assert len(langs) >= 6 and langs["hi"] >= 2
    assert len(manifest["articles"]) >= 14
    titles = " ".join(a["title"] for a in manifest["articles"])
    for low, high in (
        ("\u0900", "\u097f"),
        ("\u0400", "\u04ff"),
        ("\u0600", "\u06ff"),
    ):  # Devanagari, Cyrillic, Arabic
        assert any(low <= ch <= high for ch in titles), (low, high)


def test_no_broken_internal_links(site: SiteServer, pages: dict[str, _PageParser], manifest: dict) -> None:
    targets: set[str] = set()
    for page_path, page in pages.items():
        for _, href in page.links:
            path = internal_path(site, page_path, href)
            if path is not None:
                targets.add(path)
    for source in manifest["sitemaps"]:
        targets |= {urlsplit(u).path for u in sitemap_urls(site.url, source)}
    for source in manifest["feeds"]:
        targets |= {urlsplit(u).path for u in feed_urls(site.url, source)}
    assert len(targets) > 40
    broken = [p for p in sorted(targets) if fetch(site.url + p)[0] != 200]
    assert broken == []


def test_discovery_channels_match_manifest(
    site: SiteServer, pages: dict[str, _PageParser], manifest: dict
) -> None:
    disallowed = tuple(manifest["robots_disallow"])
    linked_anywhere: set[str] = set()
    for page_path, page in pages.items():
        linked_anywhere |= {internal_path(site, page_path, h) for t, h in page.links if t == "a"} - {None}
    # Breadth-first from the start page over <a> links, not following links out of disallowed pages.
    reached, queue = set(), [manifest["start"]]
    while queue:
        path = queue.pop()
        if path in reached:
            continue
        reached.add(path)
        if path in pages and not path.startswith(disallowed):
            queue += [p for t, h in pages[path].links if t == "a" and (p := internal_path(site, path, h))]
    in_sitemaps = {urlsplit(u).path for s in manifest["sitemaps"] for u in sitemap_urls(site.url, s)}
    in_feeds = {urlsplit(u).path for f in manifest["feeds"] for u in feed_urls(site.url, f)}
    for article in manifest["articles"]:
        path = article["path"]
        expected = [
            c
            for c, ok in (
                ("link", path in reached),
                ("sitemap", path in in_sitemaps),
                ("feed", path in in_feeds),
            )
            if ok
        ]
        assert article["reachable_via"] == expected, path
        if "link" not in expected:
            assert path not in linked_anywhere, f"{path} is linked from a page"
    only = Counter(tuple(a["reachable_via"]) for a in manifest["articles"])
    assert only[("sitemap",)] >= 1 and only[("feed",)] >= 1


def test_robots_txt_blocks_a_linked_article(
    site: SiteServer, pages: dict[str, _PageParser], manifest: dict
) -> None:
    robots = urllib.robotparser.RobotFileParser(site.url + "/robots.txt")
    robots.read()
    assert robots.site_maps() == [site.url + "/sitemap.xml"]
    for article in manifest["articles"]:
        assert robots.can_fetch("news-archiver", site.url + article["path"]) != article["robots_blocked"]
    blocked = {a["path"] for a in manifest["articles"] if a["robots_blocked"]}
    home_links = {internal_path(site, "/", h) for t, h in pages["/"].links if t == "a"}
    assert blocked and blocked <= home_links


def test_non_html_files_are_linked_and_typed(
    site: SiteServer, pages: dict[str, _PageParser], manifest: dict
) -> None:
    article_links = {
        internal_path(site, a["path"], h)
        for a in manifest["articles"]
        for t, h in pages[a["path"]].links
        if t == "a"
    }
    for entry in manifest["non_html"]:
        status, headers, _ = fetch(site.url + entry["path"])
        assert (status, headers["Content-Type"]) == (200, entry["content_type"])
        assert entry["path"] in article_links, entry


def test_duplicate_pages_carry_the_same_article(pages: dict[str, _PageParser], manifest: dict) -> None:
    duplicates = [a for a in manifest["articles"] if a["duplicate_of"]]
    assert duplicates
    for dup in duplicates:
        original = pages[dup["duplicate_of"]]
        copy = pages[dup["path"]]
        assert copy.h1 == original.h1
        long_lines = [line for line in copy.article_lines() if len(line) > 80]
        assert len(long_lines) >= 5
        assert set(long_lines) <= set(original.article_lines()), dup["path"]


def test_hindi_fixture_strings_are_on_the_page(pages: dict[str, _PageParser]) -> None:
    expected = json.loads(HINDI_FIXTURE.read_text(encoding="utf-8"))
    page = pages[expected["path"]]
    lines = page.lines()
    assert [norm(t) for t in page.h1] == [expected["title"]]
    assert expected["lede"] in lines
    positions = [lines.index(p) for p in expected["body_paragraphs"]]
    assert positions == sorted(positions), "body paragraphs out of order"
    for line in expected["boilerplate_lines"] + expected["page_chrome_lines"]:
        assert line in lines, line


@pytest.mark.skipif(not SEED_FILE.is_file(), reason=f"seed file absent: {SEED_FILE}")
def test_hindi_fixture_accounts_for_every_seed_line() -> None:
    expected = json.loads(HINDI_FIXTURE.read_text(encoding="utf-8"))
    seed_lines = [line for line in SEED_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    kept = [expected["title"], expected["lede"], *expected["body_paragraphs"]]
    assert [line for line in seed_lines if line in kept] == kept  # verbatim and in order
    assert sorted(kept + expected["boilerplate_lines"]) == sorted(seed_lines)
