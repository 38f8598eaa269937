"""Where the crawl may go: own sites only, no private addresses, no redirect loops or odd schemes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from crawler.reach import Reach, is_public_address
from tests.conftest import FAST, run_cli
from tests.faultserver import Route, serve_faults
from tests.newsgen import story_html


def _failures(db: Path) -> dict[str, tuple[str, int | None, str | None]]:
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT url, reason, http_status, detail FROM fetch_failures").fetchall()
    finally:
        con.close()
    return {url: (reason, status, detail) for url, reason, status, detail in rows}


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.2", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata service
        ("100.64.0.1", False),  # shared address space
        ("224.0.0.1", False),
        ("239.255.255.250", False),
        ("0.0.0.0", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("ff02::1", False),
        ("not an address", False),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_own_sites_are_the_given_sites() -> None:
    reach = Reach.of(["http://127.0.0.1:8000/", "https://www.example.com/news/"])
    assert reach.is_own("http://127.0.0.1:8000/a")
    assert not reach.is_own("http://127.0.0.1:8001/a")  # another port is another site
    assert not reach.is_own("http://127.0.0.2:8000/a")
    assert reach.is_own("https://example.com/b") and reach.is_own("http://www.example.com:80/c")
    assert not reach.is_own("https://evil.example.org/")
    assert reach.is_given("http://127.0.0.1:8000/x") and not reach.is_given("http://example.com/")


@pytest.mark.slow
def test_refused_redirects_are_never_requested_and_recorded(tmp_path: Path) -> None:
    """A 302 to another loopback address is not followed (the other server sees no request);
    loops and non-HTTP schemes are refused; each refusal is a fetch_failures row."""
    with serve_faults({"/": Route(body=b"elsewhere")}, host="127.0.0.2") as other:
        routes = {
            "/": Route(
                body=(
                    '<html><body><a href="/go">go</a> <a href="/loop-a">loop</a> '
                    '<a href="/scheme">scheme</a> <a href="/story">story</a> '
                    f'<a href="{other.url}/direct">direct</a></body></html>'
                ).encode()
            ),
            "/go": Route.redirect(other.url + "/"),
            "/loop-a": Route.redirect("/loop-b"),
            "/loop-b": Route.redirect("/loop-a"),
            "/scheme": Route.redirect("file:///etc/passwd"),
            "/story": Route(body=story_html(1).encode()),
        }
        with serve_faults(routes) as site:
            db = tmp_path / "archive.db"
            proc = run_cli("crawl", site.url + "/", "--db", f"sqlite:///{db}", *FAST)
            assert proc.returncode == 0, proc.stderr
            assert other.requests == 0, other.hits
            assert site.hits["/go"] == 1 and site.hits["/scheme"] == 1
            assert site.hits["/loop-a"] == 1 and site.hits["/loop-b"] == 1
    failures = _failures(db)
    assert failures[site.url + "/go"][0] == "offsite_redirect"
    assert other.url in (failures[site.url + "/go"][2] or "")
    assert failures[site.url + "/loop-a"][0] == "redirect_loop"
    assert failures[site.url + "/scheme"][0] == "bad_scheme"
    # The start URL is on a private address but was given: crawled, with a notice.
    assert "private address" in proc.stdout
    con = sqlite3.connect(db)
    assert con.execute("SELECT url FROM articles").fetchall() == [(site.url + "/story",)]


def _reach_middleware(start: list[str], allow_private: bool = False):  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from scrapy.settings import Settings
    from scrapy.statscollectors import MemoryStatsCollector

    from middlewares import ReachMiddleware

    crawler = SimpleNamespace(
        settings=Settings({"CRAWLER_ALLOW_PRIVATE_ADDRESSES": allow_private}),
        spider=SimpleNamespace(reach=Reach.of(start)),
    )
    crawler.stats = MemoryStatsCollector(crawler)
    return ReachMiddleware(crawler)


def test_private_addresses_refused_unless_given_or_allowed() -> None:
    """http://127.0.0.1/ was given; https://127.0.0.1/ is the same site on another port (443), a
    private address that was not given: refused, unless CRAWLER_ALLOW_PRIVATE_ADDRESSES."""
    import asyncio

    from scrapy import Request

    from middlewares import Refused

    mw = _reach_middleware(["http://127.0.0.1/"])
    assert asyncio.run(mw.process_request(Request("http://127.0.0.1/page"))) is None
    with pytest.raises(Refused) as refused:
        asyncio.run(mw.process_request(Request("https://127.0.0.1/page")))
    assert refused.value.reason == "private_address"
    with pytest.raises(Refused) as refused:
        asyncio.run(mw.process_request(Request("http://10.0.0.1/page")))
    assert refused.value.reason == "offsite"
    allowed = _reach_middleware(["http://127.0.0.1/"], allow_private=True)
    assert asyncio.run(allowed.process_request(Request("https://127.0.0.1/page"))) is None
