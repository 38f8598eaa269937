"""One crawl of the hostile fault site (tests/faultsite.py) with the default settings: exactly the
good articles archived, every bad input recorded with its reason, bounded memory and time."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faultsite import crawl_fault_site

GiB = 1024**3


@pytest.mark.slow
def test_hostile_site_archives_the_good_and_records_the_bad(tmp_path: Path) -> None:
    result = crawl_fault_site(tmp_path)
    assert result["returncode"] == 0 and result["crashes"] == 0, result["stdout"]
    assert result["lost"] == [] and result["extra"] == [], result["failures"]
    assert result["duplicates"] == 0
    assert result["unrecorded_or_wrong"] == {}, result["failures"]
    assert result["other_server_requests"] == 0  # the off-site redirect and the XXE DTD
    assert not result["secret_leaked"]  # the external entity's file was never read into the archive
    assert result["peak_rss_mib"] * 2**20 < 1.5 * GiB, result["peak_rss_by_process_mib"]
    assert result["seconds"] < 300
