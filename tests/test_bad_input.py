"""Bad input to a crawl is refused before anything starts: one line, a non-zero exit (2 for a
usage error), no traceback, no SQL, no request sent and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.siteserver import serve_directory
from tests.conftest import run_cli, run_scrapy
from tests.newsgen import write_site

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    write_site(root, 3)
    with serve_directory(root) as srv:
        yield srv


def _refused(result, *words: str, code: int = 2) -> str:
    err = result.stderr.strip()
    assert result.returncode == code, result.stdout + result.stderr
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err and "[SQL" not in err and "CREATE TABLE" not in err, err
    assert "Archived" not in result.stdout
    for word in words:
        assert word in err, err
    return err


@pytest.mark.parametrize("db", ["sqlite:///", "sqlite://", "sqlite:///:memory:"])
def test_an_archive_without_a_file_is_refused(server, db):
    result = run_cli("crawl", server.url + "/", "--db", db)
    _refused(result, "file")
    assert not server.hits


def test_a_device_is_not_an_archive(server):
    result = run_cli("crawl", server.url + "/", "--db", "sqlite:////dev/null")
    _refused(result, "/dev/null")
    assert not server.hits


def test_an_unusable_jobdir_is_one_line(server, tmp_path: Path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    db = tmp_path / "a.db"
    result = run_cli("crawl", server.url + "/", "--db", f"sqlite:///{db}", "--jobdir", str(afile / "job"))
    _refused(result, str(afile / "job"))
    assert not server.hits and not db.exists()


@pytest.mark.parametrize(
    "setting", ["DOWNLOAD_DELAY=abc", "CONCURRENT_REQUESTS=many", "ROBOTSTXT_OBEY=perhaps"]
)
def test_a_setting_of_the_wrong_type_is_one_line(server, tmp_path: Path, setting: str):
    db = tmp_path / "a.db"
    result = run_cli("crawl", server.url + "/", "--db", f"sqlite:///{db}", "-s", setting)
    _refused(result, setting.split("=")[0])
    assert not server.hits and not db.exists()


def test_scrapy_crawl_with_nothing_to_crawl_fails(tmp_path: Path):
    result = run_scrapy("crawl", "article", "-s", f"ARCHIVE_URL=sqlite:///{tmp_path / 'a.db'}")
    assert result.returncode != 0
    assert "nothing to crawl" in result.stderr and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert not (tmp_path / "a.db").exists()


def test_scrapy_crawl_with_a_bad_number_fails(server, tmp_path: Path):
    result = run_scrapy(
        "crawl", "article", "-a", f"urls={server.url}/", "-a", "max_pages=lots", "-s", "ARCHIVE_URL="
    )
    assert result.returncode != 0
    assert "max_pages must be a whole number" in result.stderr and "Traceback" not in result.stderr
