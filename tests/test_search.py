"""Full-text search: the FTS5 index follows inserts, updates and deletes; Devanagari and other
non-Latin scripts match whole words; `crawler search` prints the best matches with snippets."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import delete, select, text

from archive.db import make_engine, make_sessionmaker
from archive.models import Article
from archive.search import (
    FTS_TABLE,
    MARK_END,
    MARK_START,
    PG_DOCUMENT,
    SearchError,
    ensure_search_index,
    search,
)
from archive.store import content_hash, store_article
from tests.newsgen import invoke

ARTICLES = {
    "hi-rain": ("hi", "दिल्ली में भारी बारिश", "नई दिल्ली में सोमवार को भारी बारिश से कई इलाकों में जलभराव हो गया।"),
    "hi-time": ("hi", "तीसरी बार चुनाव", "गांव की पंचायत में इस बार महिला उम्मीदवार ने तीसरी बार चुनाव जीता।"),
    "hi-air": (
        "hi",
        "वायु प्रदूषण पर अभियान",
        "सर्दियों में बढ़ने वाले वायु प्रदूषण को देखते हुए नगर निगम ने अभियान शुरू किया।",
    ),
    "en-metro": (
        "en",
        "Metro line opens",
        "The new metro line opened on Monday with free rides for the first week.",
    ),
    "de-metro": (
        "de",
        "Neue Metro",
        "Die neue Metro fährt ab Montag alle zehn Minuten durch die Straße am Café.",
    ),
    "ru-budget": (
        "ru",
        "Совет утвердил бюджет",
        "Городской совет утвердил бюджет на следующий год после долгих споров.",
    ),
    "ar-port": ("ar", "توسعة الميناء", "يبدأ العمل في توسعة الميناء التجاري مطلع الشهر المقبل."),
    "ja-robot": ("ja", "ロボット授業", "市内の小学校でロボット授業が始まる。地元企業が教材を提供した。"),
    "bn-flood": ("bn", "বন্যা পরিস্থিতি", "উত্তরাঞ্চলে বন্যা পরিস্থিতির অবনতি হয়েছে বলে জানিয়েছে প্রশাসন।"),
}


def _record(key: str, lang: str, title: str, body: str) -> dict:
    return {
        "url": f"https://news.example/{key}",
        "domain": "news.example",
        "title": title,
        "lede": None,
        "body": body,
        "word_count": len(body.split()),
        "lang": lang,
        "fetched_at": datetime(2026, 11, 20, 8, 0),
        "content_hash": content_hash(title + body),
    }


@pytest.fixture
def archive_db(archive_url: str) -> str:
    """The URL of an archive of ARTICLES, on SQLite (FTS5) and on PostgreSQL (tsvector)."""
    engine = make_engine(archive_url)
    with make_sessionmaker(engine).begin() as session:
        for key, (lang, title, body) in ARTICLES.items():
            assert store_article(session, _record(key, lang, title, body)) == "new"
    engine.dispose()
    return archive_url


def _sqlite_only(url: str) -> None:
    if not url.startswith("sqlite"):
        pytest.skip("about the SQLite FTS5 index")


def _urls(db: str, query: str, **kwargs) -> list[str]:
    engine = make_engine(db)
    try:
        with make_sessionmaker(engine)() as session:
            return [h.url.rsplit("/", 1)[1] for h in search(session, query, **kwargs)]
    finally:
        engine.dispose()


def test_devanagari_matches_whole_words(archive_db):
    assert _urls(archive_db, "बारिश") == ["hi-rain"]
    # "बार" (time) is a word of its own: it must not match inside "बारिश" (rain), nor the reverse,
    # which is what unicode61's default categories do (they split words at every vowel sign).
    assert _urls(archive_db, "बार") == ["hi-time"]
    assert _urls(archive_db, "प्रदूषण") == ["hi-air"]
    assert _urls(archive_db, "बारि*") == ["hi-rain"]
    assert _urls(archive_db, "वायु प्रदूषण अभियान") == ["hi-air"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("бюджет", ["ru-budget"]),
        ("БЮДЖЕТ", ["ru-budget"]),
        ("الميناء", ["ar-port"]),
        ("বন্যা", ["bn-flood"]),
        ("ロボット", ["ja-robot"]),  # no spaces between words: substring search
        ("cafe", ["de-metro"]),  # accents folded (FTS5; PostgreSQL's simple configuration keeps them)
        ("nothing-like-this", []),
    ],
)
def test_other_scripts(archive_db, query, expected):
    if query == "cafe":
        _sqlite_only(archive_db)
    assert _urls(archive_db, query) == expected


def test_language_filter_and_ranking(archive_db):
    assert sorted(_urls(archive_db, "metro")) == ["de-metro", "en-metro"]
    assert _urls(archive_db, "metro", lang="de") == ["de-metro"]
    assert _urls(archive_db, "metro", lang="hi") == []


def test_index_follows_updates_and_deletes(archive_db):
    engine = make_engine(archive_db)
    Session = make_sessionmaker(engine)
    with Session.begin() as session:
        record = _record(
            "hi-rain", "hi", "दिल्ली में कोहरा", "नई दिल्ली में मंगलवार को घना कोहरा छाया रहा और उड़ानें देर से चलीं।"
        )
        assert store_article(session, record) == "changed"
    assert _urls(archive_db, "बारिश") == []
    assert _urls(archive_db, "कोहरा") == ["hi-rain"]
    with Session.begin() as session:
        session.execute(delete(Article).where(Article.url.like("%/en-metro")))
    assert _urls(archive_db, "metro") == ["de-metro"]
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('integrity-check')")
    engine.dispose()


def test_index_is_built_for_an_archive_that_had_none(archive_db):
    _sqlite_only(archive_db)
    engine = make_engine(archive_db, create=False)
    with engine.begin() as conn:
        for suffix in ("ai", "ad", "au"):
            conn.exec_driver_sql(f"DROP TRIGGER {FTS_TABLE}_{suffix}")
        conn.exec_driver_sql(f"DROP TABLE {FTS_TABLE}")
    assert ensure_search_index(engine)
    with make_sessionmaker(engine)() as session:
        count = session.scalar(select(text("count(*)")).select_from(text(FTS_TABLE)))
    engine.dispose()
    assert count == len(ARTICLES)
    assert _urls(archive_db, "प्रदूषण") == ["hi-air"]


def test_snippets_mark_the_matches(archive_db):
    engine = make_engine(archive_db)
    with make_sessionmaker(engine)() as session:
        (hit,) = search(session, "जलभराव")
        (scan,) = search(session, "教材")
    engine.dispose()
    assert f"{MARK_START}जलभराव{MARK_END}" in hit.snippet and hit.lang == "hi"
    assert f"{MARK_START}教材{MARK_END}" in scan.snippet


def test_raw_query_syntax_errors_are_one_line(archive_db):
    _sqlite_only(archive_db)
    engine = make_engine(archive_db)
    with make_sessionmaker(engine)() as session, pytest.raises(SearchError):
        search(session, 'metro AND "unclosed', raw=True)
    engine.dispose()
    proc = invoke("search", 'metro AND "unclosed', "--raw", "--db", archive_db)
    assert proc.exit_code != 0 and "bad search query" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_search_command(archive_db):
    proc = invoke("search", "प्रदूषण", "--lang", "hi", "--db", archive_db)
    assert proc.exit_code == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("1. वायु प्रदूषण पर अभियान") and "[hi]" in lines[0]
    assert lines[1].strip() == "https://news.example/hi-air"
    assert "प्रदूषण को देखते हुए" in lines[2]
    proc = invoke("search", "metro OR", "--db", archive_db, "--lang", "ja")
    assert proc.exit_code == 0 and "No matches" in proc.stdout


def test_raw_queries_on_postgresql(archive_db):
    if not archive_db.startswith("postgresql"):
        pytest.skip("PostgreSQL's web-search syntax")
    assert sorted(_urls(archive_db, "metro OR бюджет", raw=True)) == ["de-metro", "en-metro", "ru-budget"]
    assert _urls(archive_db, "metro -free", raw=True) == ["de-metro"]
    assert _urls(archive_db, '"unclosed', raw=True) == []  # never a syntax error there
    engine = make_engine(archive_db)
    with engine.connect() as conn:  # the query uses the GIN index of migration 0002
        conn.exec_driver_sql("SET enable_seqscan = off")
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                text(
                    f"EXPLAIN SELECT url FROM articles WHERE ({PG_DOCUMENT}) @@ plainto_tsquery('simple', 'x')"
                )
            )
        )
    engine.dispose()
    assert "ix_articles_search" in plan
