"""End to end: real crawls of the sample site over loopback into a real SQLite file."""

from __future__ import annotations

import json
import socket
import sqlite3
from pathlib import Path

import pytest

from archive.export import DEFAULT_FIELDS
from tests.conftest import FAST, REPO, run_cli, run_scrapy

# Every test here starts crawl subprocesses.
pytestmark = pytest.mark.slow


def _rows(db: Path, sql: str, *args: object) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def _articles(db: Path) -> dict[str, dict]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return {r["url"]: dict(r) for r in con.execute("SELECT * FROM articles")}
    finally:
        con.close()


@pytest.fixture(scope="module")
def full_crawl(site, tmp_path_factory):
    """One crawl through the home page, the sitemap index and the RSS feed."""
    db = tmp_path_factory.mktemp("crawl") / "archive.db"
    proc = run_cli(
        "crawl",
        site.url + "/",
        "--sitemap",
        site.url + "/sitemap.xml",
        "--feed",
        site.url + "/feed.xml",
        "--feed",
        site.url + "/atom.xml",
        "--db",
        f"sqlite:///{db}",
        *FAST,
    )
    assert proc.returncode == 0, proc.stderr
    return db, proc


def _expected(manifest, via=None):
    out = []
    for page in manifest:
        if page.get("robots_blocked") or page.get("duplicate_of"):
            continue
        if via is None or via in page["reachable_via"]:
            out.append(page)
    return out


def test_crawl_archives_every_reachable_article(site, manifest, full_crawl):
    db, proc = full_crawl
    archived = _articles(db)
    paths = {url.removeprefix(site.url) for url in archived}
    for page in _expected(manifest):
        assert page["path"] in paths, f"{page['path']} not archived"
    assert "Archived" in proc.stdout


@pytest.mark.parametrize("via", ["sitemap", "feed"])
def test_discovery_only_through_sitemap_or_feed(site, manifest, full_crawl, tmp_path, via):
    """Pages reachable only through the sitemap (or feed) are archived when it is given, not otherwise."""
    only = [p for p in _expected(manifest) if p["reachable_via"] == [via]]
    assert only, f"the sample site has no page reachable only via {via}"
    paths = {u.removeprefix(site.url) for u in _articles(full_crawl[0])}
    assert all(p["path"] in paths for p in only)
    db = tmp_path / "links-only.db"
    assert run_cli("crawl", site.url + "/", "--db", f"sqlite:///{db}", *FAST).returncode == 0
    links_only = {u.removeprefix(site.url) for u in _articles(db)}
    assert not any(p["path"] in links_only for p in only)
    assert any(p["path"] in links_only for p in _expected(manifest, "link"))


def test_robots_txt_is_obeyed(site, manifest, full_crawl):
    blocked = [p for p in manifest if p.get("robots_blocked")]
    assert blocked
    paths = {u.removeprefix(site.url) for u in _articles(full_crawl[0])}
    for page in blocked:
        assert page["path"] not in paths
        assert site.hits_for(page["path"]) == 0, "a robots.txt-disallowed page was requested"


def test_duplicates_are_stored_once_and_counted(site, manifest, full_crawl):
    db = full_crawl[0]
    dups = [p for p in manifest if p.get("duplicate_of")]
    assert dups
    hashes = [h for (h,) in _rows(db, "SELECT content_hash FROM articles")]
    assert len(hashes) == len(set(hashes))
    skipped = json.loads(_rows(db, "SELECT skipped FROM crawl_runs ORDER BY id DESC LIMIT 1")[0][0])
    assert skipped.get("duplicate", 0) >= len(dups)


def test_languages_are_tagged(site, manifest, full_crawl):
    archived = _articles(full_crawl[0])
    by_path = {u.removeprefix(site.url): row for u, row in archived.items()}
    langs = set()
    for page in _expected(manifest):
        row = by_path[page["path"]]
        assert row["lang"] == page["lang"], f"{page['path']}: {row['lang']} != {page['lang']}"
        langs.add(page["lang"])
    assert "hi" in langs and len(langs - {"hi"}) >= 4


def test_hindi_seed_page_exact_fields(site, full_crawl):
    expected = json.loads((REPO / "tests/fixtures/hindi_seed_expected.json").read_text(encoding="utf-8"))
    row = _articles(full_crawl[0])[site.url + expected["path"]]
    assert row["title"] == expected["title"]
    assert row["lede"] == expected["lede"]
    assert row["body"].split("\n\n") == expected["body_paragraphs"]
    assert row["lang"] == "hi"
    text = row["lede"] + "\n" + row["body"]
    for line in expected["boilerplate_lines"]:
        assert line not in text.splitlines()


def test_recrawl_updates_rows_and_records_runs(site, tmp_path):
    db = tmp_path / "a.db"
    # No revisit interval: every page is fetched again.
    args = ("crawl", site.url + "/", "--db", f"sqlite:///{db}", *FAST, "-s", "CRAWLER_INCREMENTAL=0")
    assert run_cli(*args).returncode == 0
    first = _articles(db)
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    second = _articles(db)
    assert first.keys() == second.keys()
    assert all(second[u]["id"] == first[u]["id"] for u in first)
    assert all(second[u]["fetched_at"] > first[u]["fetched_at"] for u in first)
    runs = _rows(db, "SELECT archived, updated, finish_reason FROM crawl_runs ORDER BY id")
    assert len(runs) == 2
    assert runs[0][0] == len(first) and runs[1][0] == 0 and runs[1][1] == len(first)
    assert runs[1][2] == "finished"


def test_non_html_is_counted_and_skipped(site, manifest, tmp_path):
    non_html = [p for p in _non_html_paths()]
    assert non_html, "the sample site ships no non-HTML file"
    seeds = tmp_path / "seeds.txt"
    article = _expected(manifest)[0]["path"]
    seeds.write_text("# mixed\n" + "\n".join(site.url + p for p in [*non_html, article]) + "\n")
    db = tmp_path / "n.db"
    proc = run_cli("crawl", "--seeds", str(seeds), "--db", f"sqlite:///{db}", "--max-depth", "0", *FAST)
    assert proc.returncode == 0, proc.stderr
    assert list(_articles(db)) == [site.url + article]
    skipped = json.loads(_rows(db, "SELECT skipped FROM crawl_runs")[0][0])
    assert skipped["non_html"] == len(non_html)


def _non_html_paths() -> list[str]:
    from crawler.sample_site import SITE_DIR

    return sorted(
        "/" + str(p.relative_to(SITE_DIR))
        for p in SITE_DIR.rglob("*")
        if p.suffix in (".pdf", ".png", ".jpg")
    )


def test_failures_are_recorded(site, tmp_path):
    seeds = tmp_path / "seeds.txt"
    seeds.write_text(f"{site.url}/no/such/page.html\n")
    db = tmp_path / "f.db"
    proc = run_cli("crawl", "--seeds", str(seeds), "--db", f"sqlite:///{db}", *FAST)
    rows = _rows(db, "SELECT url, http_status, reason FROM fetch_failures")
    assert rows == [(f"{site.url}/no/such/page.html", 404, "http_404")]
    assert proc.returncode != 0 and "could not fetch any page" in proc.stderr


def test_scrapy_crawl_from_repo_root(site, tmp_path):
    db = tmp_path / "s.db"
    out = tmp_path / "items.jsonl"
    proc = run_scrapy(
        "crawl",
        "article",
        "-a",
        f"urls={site.url}/",
        "-a",
        "max_depth=1",
        "-s",
        f"ARCHIVE_URL=sqlite:///{db}",
        *FAST,
        "-O",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    archived = _articles(db)
    assert items and {i["url"] for i in items} == set(archived)
    assert all(i["title"] and i["body"] for i in items)
    # The items are the records `crawler export` writes, field for field.
    assert all(list(i) == list(DEFAULT_FIELDS) for i in items)
    by_url = {i["url"]: i for i in items}
    for url, row in archived.items():
        assert by_url[url]["text"].endswith(row["body"]) and by_url[url]["site"] == row["domain"]


def test_scrapy_feed_export_without_archive(site, tmp_path):
    """With ARCHIVE_URL empty nothing is stored, and the feed still gets clean records only."""
    out = tmp_path / "items.jsonl"
    proc = run_scrapy(
        "crawl", "article", "-a", f"urls={site.url}/", "-a", "max_depth=1",
        "-s", "ARCHIVE_URL=", *FAST, "-O", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert items and all(list(i) == list(DEFAULT_FIELDS) and i["body"] for i in items)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("crawl", "not a url"), "not an http(s) URL"),
        (
            ("crawl", f"http://127.0.0.1:{_closed_port()}/", "--db", "sqlite:///{tmp}/x.db"),
            "could not fetch any page",
        ),
        (
            ("crawl", "http://127.0.0.1:1/", "--db", "sqlite:////nonexistent-dir/x.db"),
            "cannot create database",
        ),
        (("stats", "--db", "sqlite:////nonexistent-dir/x.db"), "no archive at"),
    ],
)
def test_errors_are_one_line(tmp_path, args, message):
    args = tuple(a.replace("{tmp}", str(tmp_path)) for a in args)
    proc = run_cli(*args, "-s", "RETRY_TIMES=0") if args[0] == "crawl" else run_cli(*args)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_site_boilerplate_is_learned_across_crawls(tmp_path):
    """A line repeated on every page of a site is learned during one crawl and removed from the
    pages' text when they are crawled again."""
    from crawler.siteserver import serve_directory

    promo = "Our reporters cover the valley every single day and night for you."
    root = tmp_path / "site"
    (root / "news").mkdir(parents=True)
    topics = ["bridge", "school", "market", "river", "library", "stadium"]
    links = "".join(f'<li><a href="/news/{t}.html">{t}</a></li>' for t in topics)
    (root / "index.html").write_text(f"<html><body><h1>Valley news</h1><ul>{links}</ul></body></html>")
    for i, topic in enumerate(topics):
        paras = "".join(
            f"<p>The {topic} project in the valley reached stage {n} this week, officials said, after "
            f"months of planning meetings with residents number {i * 10 + n} and local businesses.</p>"
            for n in range(4)
        )
        (root / "news" / f"{topic}.html").write_text(
            f"<html lang='en'><head><title>The {topic} story</title></head><body><article>"
            f"<h1>The {topic} story grows</h1>{paras}<p>{promo}</p></article></body></html>",
            encoding="utf-8",
        )
    db = tmp_path / "learn.db"
    with serve_directory(root) as server:
        args = ("crawl", server.url + "/", "--db", f"sqlite:///{db}", *FAST, "-s", "CRAWLER_INCREMENTAL=0")
        assert run_cli(*args).returncode == 0
        first = [body for (body,) in _rows(db, "SELECT body FROM articles")]
        assert len(first) == len(topics) and all(promo in body for body in first)
        assert run_cli(*args).returncode == 0
    second = [body for (body,) in _rows(db, "SELECT body FROM articles")]
    assert len(second) == len(topics) and not any(promo in body for body in second)
    shown = run_cli("boilerplate", "127.0.0.1", "--db", f"sqlite:///{db}")
    assert shown.returncode == 0 and promo.lower().rstrip(".") in shown.stdout  # lines are normalised


def test_meta_refresh_pages_are_followed(tmp_path):
    """A page that moved with <meta http-equiv="refresh"> leads to its new address (the quick
    meta-refresh middleware passes only pages without the word 'refresh' straight on)."""
    from crawler.siteserver import serve_directory
    from tests.newsgen import story_html

    root = tmp_path / "site"
    (root / "news").mkdir(parents=True)
    (root / "index.html").write_text(
        '<html><body><h1>Valley news</h1><a href="/news/old.html">old</a> <a href="/news/1.html">one</a>'
        "</body></html>"
    )
    (root / "news" / "old.html").write_text(
        '<html><head><META HTTP-EQUIV="Refresh" CONTENT="0; url=/news/2.html"></head><body>moved</body></html>'
    )
    for n in (1, 2):
        (root / "news" / f"{n}.html").write_text(story_html(n), encoding="utf-8")
    db = tmp_path / "refresh.db"
    with serve_directory(root) as server:
        proc = run_cli("crawl", server.url + "/", "--db", f"sqlite:///{db}", *FAST)
        assert proc.returncode == 0, proc.stderr
        assert server.hits_for("/news/2.html") == 1
    urls = sorted(url.rsplit("/", 1)[-1] for (url,) in _rows(db, "SELECT url FROM articles"))
    assert urls == ["1.html", "2.html"]
