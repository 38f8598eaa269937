"""An export killed with SIGKILL half-way leaves the target as it was (absent, or the previous
complete export): the records go to a temporary file beside it, renamed over it only at the end."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from archive.db import make_engine
from archive.models import Article
from tests.conftest import REPO, _env

ROWS = 20_000


def _archive(path: Path, rows: int, offset: int = 0) -> str:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    body = " ".join(f"word{i % 97}" for i in range(300))
    with engine.begin() as con:
        con.execute(
            insert(Article),
            [
                {
                    "url": f"http://big.test/{offset + i}.html",
                    "domain": "big.test",
                    "title": f"Story {offset + i}",
                    "body": f"{body} {offset + i}.",
                    "word_count": 301,
                    "lang": "en",
                    "fetched_at": datetime(2026, 1, 1) + timedelta(seconds=i),
                    "content_hash": f"h{offset + i}",
                }
                for i in range(rows)
            ],
        )
    engine.dispose()
    return url


def _export(url: str, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "crawler", "export", "--db", url, "--out", str(out)],
        cwd=REPO,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _kill_half_way(proc: subprocess.Popen[bytes], folder: Path, target: Path) -> int:
    """SIGKILL ``proc`` once its temporary file has grown past a few MB; its size then."""
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None, "the export ended before it could be killed"
        assert time.monotonic() < deadline
        parts = [p for p in folder.glob(f".{target.name}.*.part")]
        size = sum(p.stat().st_size for p in parts if p.exists())
        if size > 2_000_000:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    return size


@pytest.mark.slow
def test_a_killed_export_leaves_no_partial_file_under_the_target_name(tmp_path):
    url = _archive(tmp_path / "archive.db", ROWS)
    out = tmp_path / "big.jsonl"

    proc = _export(url, out)
    size = _kill_half_way(proc, tmp_path, out)
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists(), "a partial export under the target name"
    assert size < 20 * ROWS * 100  # it really was killed before the end

    # A complete export, then one of a bigger archive killed half-way: the complete one stays.
    done = subprocess.run(
        [sys.executable, "-m", "crawler", "export", "--db", url, "--out", str(out)],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    complete = out.read_bytes()
    lines = complete.decode("utf-8").splitlines()
    assert len(lines) == ROWS and all(json.loads(line)["url"] for line in lines)
    _archive(tmp_path / "archive.db", ROWS, offset=ROWS)
    proc = _export(url, out)
    _kill_half_way(proc, tmp_path, out)
    assert out.read_bytes() == complete
