"""crawler.extract is the core, usable without a running crawl: importing it loads no Scrapy, no
Twisted, no SQLAlchemy and nothing of archive/."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO

FORBIDDEN = ("scrapy", "sqlalchemy", "twisted", "archive")


def test_importing_crawler_extract_loads_no_crawl_or_database_modules() -> None:
    code = (
        "import json, sys; import crawler.extract; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout))
    assert "crawler" in loaded and "trafilatura" in loaded  # the import did happen
    assert not loaded & set(FORBIDDEN), f"crawler.extract imports {sorted(loaded & set(FORBIDDEN))}"
