"""The sources file: parsing and validation with one-line errors, and a crawl driven by it
(allowed sections, per-site page limits, sitemaps, per-site revisit intervals, --site)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from crawler.siteserver import serve_directory
from crawler.sources import Site, SourcesError, load_sources, parse_sources
from tests.conftest import FAST, run_cli
from tests.newsgen import story_html, write_site

GOOD = """
[defaults]
revisit = "6h"
max_pages = 300

[[site]]
name = "hindi-daily"
start = ["https://www.example-hindi.in/", "https://www.example-hindi.in/desh/"]
feeds = ["https://www.example-hindi.in/rss/latest.xml"]
sections = ["/desh/", "/videsh/"]
max_pages = 100

[[site]]
name = "city.news"
sitemaps = "https://city.example.com/sitemap-news.xml"
revisit = "1d"
max_depth = 1
"""


def test_parse_valid_file():
    hindi, city = parse_sources(GOOD)
    assert hindi == Site(
        name="hindi-daily",
        start=("https://www.example-hindi.in/", "https://www.example-hindi.in/desh/"),
        feeds=("https://www.example-hindi.in/rss/latest.xml",),
        sections=("/desh/", "/videsh/"),
        max_pages=100,
        revisit_after=6 * 3600,
    )
    assert city.sitemaps == ("https://city.example.com/sitemap-news.xml",)
    assert (city.max_pages, city.max_depth, city.revisit_after) == (300, 1, 86400)
    assert hindi.allows("https://www.example-hindi.in/desh/2026/story.html")
    assert not hindi.allows("https://www.example-hindi.in/khel/cricket.html")
    assert city.allows("https://city.example.com/anything")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[site]]\nname = 'a'\nstart = ['http://x.org/'", "not valid TOML"),
        ("", "no [[site]] tables"),
        ("[[site]]\nstart = ['http://x.org/']", "site 1: name: required"),
        ("[[site]]\nname = 'a b'\nstart = ['http://x.org/']", "site 1 ('a b'): name:"),
        ("[[site]]\nname = 'a'", "site 1 ('a'): needs at least one of start, feeds, sitemaps"),
        (
            "[[site]]\nname = 'a'\nstart = ['ftp://x.org/']",
            "site 1 ('a'): start: not an http(s) URL: 'ftp://x.org/'",
        ),
        ("[[site]]\nname = 'a'\nfeeds = [1]", "site 1 ('a'): feeds: must be a string or a list of strings"),
        (
            "[[site]]\nname = 'a'\nstart = 'http://x.org/'\nrevisit = 'soon'",
            "site 1 ('a'): revisit: not a duration",
        ),
        (
            "[[site]]\nname = 'a'\nstart = 'http://x.org/'\nmax_pages = -1",
            "site 1 ('a'): max_pages: must be a whole number",
        ),
        (
            "[[site]]\nname = 'a'\nstart = 'http://x.org/'\nsections = ['news']",
            "sections: 'news' must be a path",
        ),
        ("[[site]]\nname = 'a'\nstart = 'http://x.org/'\nstrat = 'x'", "site 1 ('a'): unknown key 'strat'"),
        (
            "[[site]]\nname = 'a'\nstart = 'http://x.org/'\n[[site]]\nname = 'a'\nstart = 'http://y.org/'",
            "site 2 ('a'): name: 'a' is used twice",
        ),
        (
            "[defaults]\nmax_page = 3\n[[site]]\nname = 'a'\nstart = 'http://x.org/'",
            "[defaults]: unknown key 'max_page'",
        ),
        ("[site]\nname = 'a'", "'site' must be an array of tables"),
    ],
)
def test_invalid_files_name_the_place(text, message):
    with pytest.raises(SourcesError) as info:
        parse_sources(text, "sources.toml")
    assert str(info.value).startswith("sources.toml: ")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_unreadable_file(tmp_path):
    with pytest.raises(SourcesError, match="cannot read sources file"):
        load_sources(tmp_path / "missing.toml")


def _site_with_sections(root: Path) -> None:
    """/news/ stories linked from the home page, /sport/ stories listed in a sitemap only."""
    write_site(root, 6)
    (root / "sport").mkdir()
    sport = [f"/sport/match-{i}.html" for i in range(3)]
    for i, path in enumerate(sport):
        (root / path.lstrip("/")).write_text(story_html(100 + i), encoding="utf-8")
    urls = "".join(f"<url><loc>{{{{BASE}}}}{p}</loc></url>" for p in sport)
    (root / "sitemap-sport.xml").write_text(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{urls}<url><loc>{{{{BASE}}}}/news/story-5.html</loc></url></urlset>",
        encoding="utf-8",
    )
    home = (root / "index.html").read_text(encoding="utf-8")
    (root / "index.html").write_text(home.replace("</ul>", '<li><a href="/about.html">About</a></li></ul>'))
    (root / "about.html").write_text(story_html(200), encoding="utf-8")


def _paths(db: Path, base: str) -> set[str]:
    con = sqlite3.connect(db)
    try:
        return {u.removeprefix(base) for (u,) in con.execute("SELECT url FROM articles")}
    finally:
        con.close()


@pytest.mark.slow
def test_crawl_from_sources_file(tmp_path):
    root = tmp_path / "site"
    _site_with_sections(root)
    db = tmp_path / "s.db"
    with serve_directory(root) as server:
        sources = tmp_path / "sources.toml"
        sources.write_text(
            f"""
[[site]]
name = "gazette-news"
start = ["{server.url}/"]
sections = ["/news/"]
max_pages = 4

[[site]]
name = "gazette-sport"
sitemaps = ["{server.url}/sitemap-sport.xml"]
sections = ["/sport/"]
revisit = "0"
""",
            encoding="utf-8",
        )
        args = ("crawl", "--sources", str(sources), "--db", f"sqlite:///{db}", *FAST)
        proc = run_cli(*args, "--site", "gazette-sport")
        assert proc.returncode == 0, proc.stderr
        assert _paths(db, server.url) == {f"/sport/match-{i}.html" for i in range(3)}
        assert server.hits_for("/news/story-5.html") == 0  # in the sitemap, not in its sections
        assert server.hits_for("/") == 0  # the news site was not crawled

        proc = run_cli(*args)
        assert proc.returncode == 0, proc.stderr
        paths = _paths(db, server.url)
        news = {p for p in paths if p.startswith("/news/")}
        assert len(news) == 4  # the page limit of the news site
        assert server.hits_for("/about.html") == 0  # outside the allowed sections
        # Per-site revisit: sport (revisit 0) was checked again with conditional requests,
        # news (default 6h) was fresh and not requested.
        assert all(server.hits[("GET", f"/sport/match-{i}.html", 304)] == 1 for i in range(3))
        run = (
            sqlite3.connect(db)
            .execute("SELECT arguments, not_modified FROM crawl_runs ORDER BY id DESC")
            .fetchone()
        )
        assert run[1] == 3 + 1  # the sport articles, and one page answered from the page cache
        assert json.loads(run[0])["start"] == [f"{server.url}/", f"{server.url}/sitemap-sport.xml"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        ("[[site]]\nname = 'a'\n", (), "needs at least one of start, feeds, sitemaps"),
        ("[[site]]\nname = 'a'\nstart = 'http://127.0.0.1:9/'\n", ("--site", "b"), "no site named 'b'"),
    ],
)
def test_cli_errors_are_one_line(tmp_path, content, extra, message):
    sources = tmp_path / "sources.toml"
    sources.write_text(content, encoding="utf-8")
    proc = run_cli("crawl", "--sources", str(sources), *extra, "--db", f"sqlite:///{tmp_path}/x.db")
    assert proc.returncode != 0
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_readme_example_is_valid():
    from tests.conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    sites = parse_sources(block, "README.md")
    assert len(sites) == 2 and all(site.start and (site.feeds or site.sitemaps) for site in sites)
