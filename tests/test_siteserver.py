"""The local site server (crawler.siteserver) and the bundled sample site it serves."""

from __future__ import annotations

import gzip
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.sample_site import MANIFEST, SITE_DIR  # noqa: F401 - used by the sample-site tests
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
