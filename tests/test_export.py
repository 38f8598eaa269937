"""``crawler export``: real files from a real SQLite archive, reloaded with pandas, pyarrow and jq."""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.json as pajson
import pyarrow.parquet as pq
import pytest
from sqlalchemy import insert

from archive.db import make_engine, make_sessionmaker
from archive.export import DEFAULT_FIELDS, export, iter_records, json_record_from_article, to_json_record
from archive.models import Article
from archive.store import store_article, utc_instant
from crawler.cli import main
from crawler.extract import extract  # imports trafilatura at collection, not under warnings-as-errors
from crawler.items import RawPage
from crawler.sample_site import SITE_DIR
from pipelines import article_record
from tests.conftest import REPO, _env

_VOCAB = [f"w{i}" for i in range(400)] + ["नदी", "शहर", "चुनाव", "बारिश", "किसान", "सरकार"]


def _prose(seed: int, words: int) -> str:
    rng = random.Random(seed)
    sentences = []
    while words > 0:
        n = min(words, rng.randint(8, 16))
        sentences.append(" ".join(rng.choice(_VOCAB) for _ in range(n)).capitalize() + ".")
        words -= n
    # Paragraphs of four sentences, blank-line separated as the archive stores them.
    return "\n\n".join(" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4))


BASE_BODY = _prose(7, 300)
# The same story with one sentence changed: a near-duplicate.
NEAR_BODY = BASE_BODY.replace(BASE_BODY.split(".")[3], " Corrected figures were published on Tuesday", 1)

ROWS = [
    {
        "url": "http://a.test/en/one.html",
        "canonical_url": "http://a.test/en/one.html",
        "domain": "a.test",
        "title": "Floods close the river road",
        "lede": "The river road was closed on Monday.",
        "body": _prose(1, 120),
        "word_count": 130,
        "lang": "en",
        "lang_confidence": 0.9999,
        "author": "Ann Smith",
        "authors": ["Ann Smith"],
        "credit": ["Reuters"],
        "published": "2025-12-31",
        "published_source": "json-ld",
        "boilerplate_hits": 3,  # learned lines removed from it (None on the other rows: not counted)
        "fetched_at": datetime(2026, 1, 10, 8, 30, 15, 250000),
        "content_hash": "h-one",
    },
    {
        "url": "http://b.test/hi/do.html",
        "canonical_url": None,
        "domain": "b.test",
        "title": "नदी किनारे सड़क बंद",
        "lede": "सोमवार को नदी किनारे की सड़क बंद कर दी गई।",
        "body": BASE_BODY,
        "word_count": 310,
        "lang": "hi",
        "lang_confidence": 0.97,
        "author": None,
        "published": "2026-01-14T09:30:00+05:30",
        "modified": "2026-01-15T10:00:00+05:30",
        "access": "free",
        "fetched_at": datetime(2026, 1, 15, 12, 0, 0),
        "content_hash": "h-two",
    },
    {
        "url": "http://a.test/de/drei.html",
        "canonical_url": None,
        "domain": "a.test",
        "title": "Kurz",
        "lede": None,
        "body": "Nur ein kurzer Text.",
        "word_count": 8,
        "lang": None,
        "lang_confidence": None,
        "author": None,
        "published": None,
        "truncated": True,  # a paywall prompt ended it
        "fetched_at": datetime(2026, 2, 1, 0, 0, 0),
        "content_hash": "h-three",
    },
    # Same clean text as the first row under another URL: exported once.
    {
        "url": "http://www.a.test/en/one-copy.html",
        "canonical_url": None,
        "domain": "a.test",
        "title": "Floods close the river road",
        "lede": "The river road was closed on Monday.",
        "body": _prose(1, 120),
        "word_count": 130,
        "lang": "en",
        "lang_confidence": 0.99,
        "author": None,
        "published": "2025-12-31",
        "fetched_at": datetime(2026, 1, 20, 0, 0, 0),
        "content_hash": "h-one",
    },
    # Near-duplicate of the Hindi story (one sentence differs): kept unless --dedup near.
    {
        "url": "http://c.test/hi/do-copy.html",
        "canonical_url": None,
        "domain": "c.test",
        "title": "नदी किनारे सड़क बंद",
        "lede": "सोमवार को नदी किनारे की सड़क बंद कर दी गई।",
        "body": NEAR_BODY,
        "word_count": 310,
        "lang": "hi",
        "lang_confidence": 0.96,
        "author": None,
        "published": "2026-01-15",
        "access": "paywalled",
        "fetched_at": datetime(2026, 1, 16, 6, 0, 0),
        "content_hash": "h-five",
    },
]


@pytest.fixture
def archive(archive_url: str) -> str:
    """A real archive with ROWS (SQLite, then PostgreSQL), closed and reopened by each test through its URL."""
    url = archive_url
    engine = make_engine(url)
    with make_sessionmaker(engine).begin() as session:
        for row in ROWS:  # as store_article writes them: the stated time's instant beside it
            instants = {f"{k}_utc": utc_instant(row.get(k)) for k in ("published", "modified")}
            session.add(Article(**row, **instants))
    engine.dispose()
    return url


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_parquet_has_a_typed_schema_and_row_groups(archive, tmp_path, capsys):
    out = tmp_path / "articles.parquet"
    code, _, err = _run(capsys, "export", "--db", archive, "--out", str(out), "--batch-size", "2")
    assert code == 0, err
    assert "exported 4 articles" in err and "1 exact" in err

    pf = pq.ParquetFile(out)
    assert pf.metadata.num_rows == 4
    assert pf.metadata.num_row_groups == 2  # batches of 2 rows, one row group each
    schema = pf.schema_arrow
    assert schema.names == list(DEFAULT_FIELDS)
    assert schema.field("fetched_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("published").type == pa.timestamp("us", tz="UTC")
    assert schema.field("lang_confidence").type == pa.float64()
    assert schema.field("id").type == pa.int64()
    assert schema.field("word_count").type == pa.int64()
    assert schema.field("body").type == pa.string()

    df = pd.read_parquet(out)
    assert str(df["fetched_at"].dtype) == "datetime64[us, UTC]"
    assert df["lang_confidence"].dtype == "float64"
    assert df["content_hash"].is_unique
    by_url = df.set_index("url")
    assert "http://www.a.test/en/one-copy.html" not in by_url.index  # the older row of the hash wins
    one = by_url.loc["http://a.test/en/one.html"]
    assert one["site"] == "a.test"
    assert one["fetched_at"] == pd.Timestamp("2026-01-10T08:30:15.25", tz="UTC")
    assert one["published"] == pd.Timestamp("2025-12-31", tz="UTC")
    assert one["text"] == "\n\n".join([ROWS[0]["title"], ROWS[0]["lede"], ROWS[0]["body"]])
    hindi = by_url.loc["http://b.test/hi/do.html"]
    assert hindi["published"] == pd.Timestamp("2026-01-14T04:00:00", tz="UTC")
    assert hindi["title"] == "नदी किनारे सड़क बंद"
    short = by_url.loc["http://a.test/de/drei.html"]
    assert pd.isna(short["lang_confidence"]) and pd.isna(short["published"]) and pd.isna(short["lede"])
    assert pq.read_table(out).column("lede").null_count == 1
    assert short["text"] == "Kurz\n\nNur ein kurzer Text."


def test_jsonl_is_utf8_one_object_a_line_and_loads_with_pyarrow(archive, tmp_path, capsys):
    out = tmp_path / "articles.jsonl"
    code, _, err = _run(capsys, "export", "--db", archive, "--format", "jsonl", "--out", str(out))
    assert code == 0, err
    raw = out.read_bytes()
    assert "नदी किनारे".encode() in raw and b"\\u" not in raw
    records = _read_jsonl(out)
    assert [r["url"] for r in records] == [
        "http://a.test/en/one.html",
        "http://b.test/hi/do.html",
        "http://a.test/de/drei.html",
        "http://c.test/hi/do-copy.html",
    ]
    assert all(list(r) == list(DEFAULT_FIELDS) for r in records)
    assert records[0]["fetched_at"] == "2026-01-10T08:30:15Z"
    assert records[1]["published"] == "2026-01-14T04:00:00Z"
    assert records[0]["published"] == "2025-12-31"
    # The Hugging Face `datasets` JSON loader reads with pyarrow.json: it must infer real types.
    table = pajson.read_json(out)
    assert pa.types.is_timestamp(table.schema.field("fetched_at").type)
    assert pa.types.is_timestamp(table.schema.field("published").type)
    assert table.schema.field("lang_confidence").type == pa.float64()
    assert table.schema.field("id").type == pa.int64()
    assert table.num_rows == 4


def test_csv_round_trips_multiline_text(archive, tmp_path, capsys):
    out = tmp_path / "articles.csv"
    code, _, err = _run(capsys, "export", "--db", archive, "--out", str(out))  # format from suffix
    assert code == 0, err
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4
    assert rows[1]["body"] == BASE_BODY and "\n\n" in rows[1]["body"]
    df = pd.read_csv(out)
    assert df["lang_confidence"].dtype == "float64"
    assert list(df.columns) == list(DEFAULT_FIELDS)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--lang", "hi"], {"http://b.test/hi/do.html", "http://c.test/hi/do-copy.html"}),
        (["--lang", "en,hi", "--site", "a.test"], {"http://a.test/en/one.html"}),
        (["--site", "www.a.test"], {"http://a.test/en/one.html", "http://a.test/de/drei.html"}),
        (
            ["--min-words", "100"],
            {"http://a.test/en/one.html", "http://b.test/hi/do.html", "http://c.test/hi/do-copy.html"},
        ),
        (
            ["--since", "2026-01-15", "--until", "2026-01-16"],
            {"http://b.test/hi/do.html", "http://c.test/hi/do-copy.html"},
        ),
        (["--until", "2026-01-15"], {"http://a.test/en/one.html", "http://b.test/hi/do.html"}),
        # The hash's older row is outside the selection: its copy is exported.
        (
            ["--since", "2026-01-15T12:00:01"],
            {
                "http://a.test/de/drei.html",
                "http://c.test/hi/do-copy.html",
                "http://www.a.test/en/one-copy.html",
            },
        ),
        (
            ["--date", "published", "--since", "2026-01-01"],
            {"http://b.test/hi/do.html", "http://c.test/hi/do-copy.html"},
        ),
        (["--date", "published", "--until", "2025-12-31"], {"http://a.test/en/one.html"}),
        # Stated times compare as instants: 09:30+05:30 is 04:00Z (as text it sorts after 2026-01-14T05).
        (
            ["--date", "published", "--since", "2026-01-14T04:00:00Z", "--until", "2026-01-14T04:00:00Z"],
            {"http://b.test/hi/do.html"},
        ),
        (["--date", "published", "--since", "2026-01-14T04:00:01Z", "--until", "2026-01-14"], set()),
        (["--date", "modified", "--since", "2026-01-15T04:30:00Z"], {"http://b.test/hi/do.html"}),
        (["--date", "modified", "--since", "2026-01-15T04:30:01Z"], set()),
        # Not the truncated row nor the paywalled one.
        (["--complete-only"], {"http://a.test/en/one.html", "http://b.test/hi/do.html"}),
    ],
)
def test_filters(archive, tmp_path, capsys, args, expected):
    out = tmp_path / "f.jsonl"
    code, _, err = _run(capsys, "export", "--db", archive, "--out", str(out), *args)
    assert code == 0, err
    assert {r["url"] for r in _read_jsonl(out)} == expected


def test_metadata_fields_are_typed_and_keep_the_stated_offset(archive, tmp_path, capsys):
    out = tmp_path / "meta.parquet"
    code, _, err = _run(capsys, "export", "--db", archive, "--out", str(out), "--fields", _META_FIELDS)
    assert code == 0, err
    table = pq.read_table(out)
    schema = table.schema
    assert schema.field("published").type == pa.timestamp("us", tz="UTC")
    assert schema.field("modified").type == pa.timestamp("us", tz="UTC")
    assert schema.field("published_offset").type == pa.string()
    assert schema.field("authors").type == pa.list_(pa.string())
    assert schema.field("truncated").type == pa.bool_()
    assert schema.field("boilerplate_hits").type == pa.int64()
    rows = {r["url"]: r for r in table.to_pylist()}
    assert rows["http://a.test/en/one.html"]["boilerplate_hits"] == 3
    assert rows["http://b.test/hi/do.html"]["boilerplate_hits"] is None
    hindi = rows["http://b.test/hi/do.html"]
    assert hindi["published"] == datetime(2026, 1, 14, 4, 0, tzinfo=UTC)
    assert hindi["published_offset"] == "+05:30" and hindi["modified_offset"] == "+05:30"
    assert hindi["modified"] == datetime(2026, 1, 15, 4, 30, tzinfo=UTC)
    assert hindi["access"] == "free" and hindi["truncated"] is False and hindi["authors"] is None
    one = rows["http://a.test/en/one.html"]
    assert one["authors"] == ["Ann Smith"] and one["credit"] == ["Reuters"] and one["author"] == "Ann Smith"
    assert one["published_offset"] is None and one["published_source"] == "json-ld"
    assert one["access"] == "unknown"  # the column's default
    assert rows["http://a.test/de/drei.html"]["truncated"] is True
    # JSON Lines: UTC instants (a date alone stays a date), lists as arrays; CSV: arrays as JSON text.
    code, _, err = _run(
        capsys, "export", "--db", archive, "--out", str(tmp_path / "m.jsonl"), "--fields", _META_FIELDS
    )
    assert code == 0, err
    lines = {r["url"]: r for r in _read_jsonl(tmp_path / "m.jsonl")}
    assert lines["http://b.test/hi/do.html"]["published"] == "2026-01-14T04:00:00Z"
    assert lines["http://a.test/en/one.html"]["published"] == "2025-12-31"
    assert lines["http://a.test/en/one.html"]["authors"] == ["Ann Smith"]
    assert lines["http://a.test/en/one.html"]["boilerplate_hits"] == 3
    code, _, err = _run(
        capsys, "export", "--db", archive, "--out", str(tmp_path / "m.csv"), "--fields", _META_FIELDS
    )
    assert code == 0, err
    with open(tmp_path / "m.csv", encoding="utf-8", newline="") as fh:
        cells = {r["url"]: r for r in csv.DictReader(fh)}
    assert json.loads(cells["http://a.test/en/one.html"]["credit"]) == ["Reuters"]


_META_FIELDS = (
    "url,author,authors,credit,published,published_offset,published_source,modified,modified_offset,access,"
    "truncated,boilerplate_hits"
)


def test_fields_choose_and_order_columns(archive, tmp_path, capsys):
    out = tmp_path / "f.parquet"
    code, _, err = _run(
        capsys, "export", "--db", archive, "--out", str(out), "--fields", "lang,text,fetched_at"
    )
    assert code == 0, err
    table = pq.read_table(out)
    assert table.schema.names == ["lang", "text", "fetched_at"]
    assert pa.types.is_timestamp(table.schema.field("fetched_at").type)
    code, _, err = _run(
        capsys, "export", "--db", archive, "--out", str(tmp_path / "x.csv"), "--fields", "title,nope"
    )
    assert code == 2 and "unknown field(s) nope" in err and "Traceback" not in err


def test_near_dedup_drops_the_near_copy_only(archive, tmp_path, capsys):
    out = tmp_path / "near.jsonl"
    code, _, err = _run(capsys, "export", "--db", archive, "--out", str(out), "--dedup", "near")
    assert code == 0, err
    urls = [r["url"] for r in _read_jsonl(out)]
    assert urls == ["http://a.test/en/one.html", "http://b.test/hi/do.html", "http://a.test/de/drei.html"]
    assert "1 exact, 1 near" in err
    # Whatever the fields: the text compared is the article's, exported or not.
    code, _, err = _run(
        capsys, "export", "--db", archive, "--out", str(out), "--dedup", "near", "--fields", "url"
    )
    assert code == 0, err
    assert [r["url"] for r in _read_jsonl(out)] == urls


def test_stdout_jsonl_reads_line_by_line_with_jq(archive):
    jq = shutil.which("jq")
    if jq is None:
        pytest.skip("jq is not installed")
    with subprocess.Popen(
        [sys.executable, "-m", "crawler", "export", "--db", archive, "--out", "-", "--lang", "hi"],
        cwd=REPO,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as export_proc:
        jq_out = subprocess.run(
            [jq, "-r", "[.id, .lang, .title] | @tsv"],
            check=False,
            stdin=export_proc.stdout,
            capture_output=True,
            timeout=60,
        )
        err = export_proc.stderr.read().decode()  # type: ignore[union-attr]
    assert export_proc.returncode == 0, err
    assert "exported 2 articles to stdout" in err
    lines = jq_out.stdout.decode("utf-8").splitlines()
    assert lines == ["2\thi\tनदी किनारे सड़क बंद", "5\thi\tनदी किनारे सड़क बंद"]


def test_stdout_csv(archive, capsys):
    code, out, err = _run(
        capsys, "export", "--db", archive, "--out", "-", "--format", "csv", "--fields", "id,site"
    )
    assert code == 0, err
    assert out.splitlines() == ["id,site", "1,a.test", "2,b.test", "3,a.test", "5,c.test"]


def test_usage_errors_are_one_line(archive, tmp_path, capsys):
    code, _, err = _run(capsys, "export", "--db", archive, "--out", "-", "--format", "parquet")
    assert code == 2 and "stdout" in err
    code, _, err = _run(capsys, "export", "--db", archive, "--out", str(tmp_path / "x.txt"))
    assert code == 2 and "--format" in err
    code, _, err = _run(
        capsys, "export", "--db", f"sqlite:///{tmp_path / 'none.db'}", "--out", str(tmp_path / "x.csv")
    )
    assert code != 0 and "no archive" in err
    code, _, err = _run(capsys, "export", "--db", archive, "--out", str(tmp_path / "no" / "x.csv"))
    assert code != 0 and "no folder" in err
    assert "Traceback" not in err
    assert not (tmp_path / "no").exists()


class Interrupt(KeyboardInterrupt):
    pass


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
@pytest.mark.parametrize("existing", [False, True])
def test_interrupted_export_leaves_no_file_under_the_target_name(archive, tmp_path, fmt, existing):
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / f"articles.{fmt}"
    if existing:
        target.write_text("previous export\n", encoding="utf-8")
    seen = 0

    def progress(n: int) -> None:
        nonlocal seen
        seen += n
        if seen == 3:  # mid-write: two rows (two row groups for Parquet) are already out
            raise Interrupt

    engine = make_engine(archive)
    with make_sessionmaker(engine)() as session, pytest.raises(Interrupt):
        export(session, target, fmt, batch_size=1, progress=progress)  # type: ignore[arg-type]
    engine.dispose()
    assert seen == 3
    if existing:
        assert os.listdir(folder) == [target.name]
        assert target.read_text(encoding="utf-8") == "previous export\n"
    else:
        assert os.listdir(folder) == []

    # The same export, not interrupted, replaces the target.
    engine = make_engine(archive)
    with make_sessionmaker(engine)() as session:
        stats = export(session, target, fmt, batch_size=1)  # type: ignore[arg-type]
    engine.dispose()
    assert stats.written == 4 and os.listdir(folder) == [target.name]
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask  # not the temporary file's private mode


def test_scrapy_items_can_carry_the_exported_record(tmp_path):
    """The pipeline's record of a real extracted page, shaped by json_record_from_article, equals the
    line `crawler export` writes for it once stored (only the row id is unknown before storing)."""
    html = (SITE_DIR / "hi" / "politics" / "akhilesh-mamata-meeting.html").read_bytes()
    url = "http://127.0.0.1:8000/hi/politics/akhilesh-mamata-meeting.html"
    page = RawPage(url=url, final_url=url, status=200, html=html, fetched_at=datetime(2026, 11, 24, 10, 0, 5))
    article = extract(html, url)
    assert article is not None
    record = article_record(page, article, keep_html=False)
    item = json_record_from_article(record)

    db = f"sqlite:///{tmp_path / 'one.db'}"
    engine = make_engine(db)
    with make_sessionmaker(engine).begin() as session:
        store_article(session, record)
    engine.dispose()
    engine = make_engine(db)
    with make_sessionmaker(engine)() as session:
        (exported,) = [to_json_record(r) for r in iter_records(session)]
    engine.dispose()
    assert item.pop("id") is None and exported.pop("id") == 1
    assert item == exported
    assert (
        item["site"] == "127.0.0.1" and item["lang"] == "hi" and item["fetched_at"] == "2026-11-24T10:00:05Z"
    )
    assert item["text"].startswith(article.title + "\n\n" + (article.lede or ""))
    json.dumps(item)  # plain JSON values only


def test_memory_stays_flat(tmp_path):
    """Exporting ~24 MB of text in batches of 200 peaks far below the data size (Python heap)."""
    url = f"sqlite:///{tmp_path / 'big.db'}"
    engine = make_engine(url)
    body = _prose(3, 700)  # ~4 KB
    n = 3000
    with make_sessionmaker(engine).begin() as session:
        session.execute(
            insert(Article),
            [
                {
                    "url": f"http://big.test/{i}",
                    "domain": "big.test",
                    "title": f"Story {i}",
                    "lede": f"Lede {i}.",
                    "body": f"{i} {body}",
                    "word_count": 700,
                    "lang": "en",
                    "lang_confidence": 0.99,
                    "fetched_at": datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None),
                    "content_hash": f"big-{i}",
                }
                for i in range(n)
            ],
        )
    volume = n * len(body) * 2  # body and text
    for fmt in ("parquet", "jsonl"):
        with make_sessionmaker(engine)() as session:
            tracemalloc.start()
            stats = export(session, tmp_path / f"big.{fmt}", fmt, batch_size=200)  # type: ignore[arg-type]
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        assert stats.written == n
        print(f"{fmt}: peak {peak / 1e6:.1f} MB for {volume / 1e6:.1f} MB of text")
        assert peak < volume / 4
    engine.dispose()
