"""Full-text search over the archive: an SQLite FTS5 index of title, lede and body.

The index (``articles_fts``) is an external-content FTS5 table over ``articles``, kept in step
by triggers on insert, update (of title, lede or body) and delete, so every writer keeps it
current without knowing it exists. The first schema migration creates it (a frozen copy of
``_DDL``); :func:`ensure_search_index` makes it again in an archive that lacks it (``crawler db
upgrade`` of an archive made before migrations) and fills it from the rows already there.

Tokenizer: ``unicode61`` with ``remove_diacritics 2`` and the categories ``L* N* Co M*``. The
default categories leave out combining marks (``M*``), which split words of Indic scripts at
every vowel sign and virama (बारिश would be indexed as ब, र, श); with ``M*`` words of Devanagari,
Bengali, Tamil and other abugidas stay whole, and Latin accents are still folded (cafe = café).
Scripts written without spaces (Chinese, Japanese, Thai, Lao, Khmer, Myanmar) have no word
boundaries for unicode61, so queries in them fall back to a substring scan (:func:`search`).

PostgreSQL archives use PostgreSQL's own full-text search: a GIN index (migration 0002) over
:data:`PG_DOCUMENT`, the title (weight A), lede (B) and body (D) as ``tsvector`` of the ``simple``
configuration, which lowercases and splits at non-letters with no stemming and no stop words, so
Devanagari and every other spaced script match whole words as written. Spaceless scripts use the
substring scan there too (``ILIKE``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from crawler.text import CJK_CHARS

__all__ = ["FTS_TABLE", "SearchError", "SearchHit", "ensure_search_index", "has_search_index", "search"]

FTS_TABLE = "articles_fts"
TOKENIZE = "unicode61 remove_diacritics 2 categories 'L* N* Co M*'"
# Start and end of a matched term in snippets (the CLI turns them into highlighting).
MARK_START, MARK_END = "\x02", "\x03"

_DDL = (
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(
        title, lede, body, content='articles', content_rowid='id', tokenize="{TOKENIZE}")""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ai AFTER INSERT ON articles BEGIN
        INSERT INTO {FTS_TABLE}(rowid, title, lede, body) VALUES (new.id, new.title, new.lede, new.body);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ad AFTER DELETE ON articles BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, lede, body)
        VALUES ('delete', old.id, old.title, old.lede, old.body);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_au AFTER UPDATE OF title, lede, body ON articles BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, lede, body)
        VALUES ('delete', old.id, old.title, old.lede, old.body);
        INSERT INTO {FTS_TABLE}(rowid, title, lede, body) VALUES (new.id, new.title, new.lede, new.body);
    END""",
)

# Scripts without spaces between words: Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar, Hangul is spaced.
_SPACELESS = re.compile(f"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff{CJK_CHARS}]")
_SNIPPET_CHARS = 90
# The document PostgreSQL's index covers (archive/migrations/versions/0002: the same expression,
# which the query must repeat exactly for the index to be used).
PG_DOCUMENT = (
    "setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A')"
    " || setweight(to_tsvector('simple'::regconfig, coalesce(lede, '')), 'B')"
    " || setweight(to_tsvector('simple'::regconfig, body), 'D')"
)


class SearchError(ValueError):
    """The query cannot be run (e.g. malformed FTS5 syntax in a raw query)."""


@dataclass(frozen=True)
class SearchHit:
    """One matching article; ``snippet`` marks matched terms with MARK_START / MARK_END."""

    url: str
    title: str | None
    lang: str | None
    published: str | None
    fetched_at: datetime | None
    snippet: str
    score: float


def has_search_index(engine: Engine) -> bool:
    """True when the archive has the SQLite FTS5 index (PostgreSQL archives have their own)."""
    if engine.dialect.name != "sqlite":
        return False
    with engine.connect() as conn:
        return (
            conn.execute(
                text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :n"), {"n": FTS_TABLE}
            ).first()
            is not None
        )


def ensure_search_index(engine: Engine) -> bool:
    """Create the FTS5 index and its triggers if missing (SQLite only); True when it exists.

    A newly created index is filled from the articles already archived. Returns False for
    other databases, or when this SQLite build lacks FTS5.
    """
    if engine.dialect.name != "sqlite":
        return False
    if has_search_index(engine):
        return True
    try:
        with engine.begin() as conn:
            for statement in _DDL:
                conn.exec_driver_sql(statement)
            conn.exec_driver_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    except OperationalError as exc:
        if "fts5" in str(exc).lower():
            return False
        raise
    return True


def _fts_query(query: str) -> str:
    """Each whitespace-separated term as an FTS5 string (all must match); ``term*`` is a prefix."""
    parts = []
    for term in query.split():
        prefix = term.endswith("*") and len(term) > 1
        term = term.rstrip("*") if prefix else term
        parts.append('"' + term.replace('"', '""') + '"' + ("*" if prefix else ""))
    return " ".join(parts)


def search(
    session: Session, query: str, *, lang: str | None = None, limit: int = 10, raw: bool = False
) -> list[SearchHit]:
    """The best matches for ``query`` (all its terms), best first, optionally in language ``lang``.

    ``raw`` passes ``query`` to FTS5 unchanged (its syntax: OR, NOT, NEAR, "phrases", prefix*).
    """
    if not query.strip():
        return []
    bind = session.get_bind()
    if _SPACELESS.search(query):
        return _scan(session, query, lang=lang, limit=limit)
    if bind.dialect.name == "postgresql":
        return _pg_search(session, query, lang=lang, limit=limit, raw=raw)
    if not has_search_index(bind):  # type: ignore[arg-type]
        return _scan(session, query, lang=lang, limit=limit)
    sql = f"""
        SELECT a.url, a.title, a.lang, a.published, a.fetched_at,
               snippet({FTS_TABLE}, 2, :ms, :me, '…', 24) AS body_snip,
               snippet({FTS_TABLE}, 1, :ms, :me, '…', 24) AS lede_snip,
               bm25({FTS_TABLE}, 10.0, 4.0, 1.0) AS score
        FROM {FTS_TABLE} JOIN articles AS a ON a.id = {FTS_TABLE}.rowid
        WHERE {FTS_TABLE} MATCH :q {"AND a.lang = :lang" if lang else ""}
        ORDER BY score LIMIT :limit
    """
    params = {"q": query if raw else _fts_query(query), "ms": MARK_START, "me": MARK_END, "limit": limit}
    if lang:
        params["lang"] = lang
    try:
        rows = session.execute(text(sql), params).all()
    except OperationalError as exc:
        raise SearchError(f"bad search query {query!r}: {exc.orig}") from exc
    hits = []
    for url, title, lg, pub, fetched, body_snip, lede_snip, score in rows:
        # The text around a match: in the body, else in the lede, else the body's start.
        snip = next((x for x in (body_snip, lede_snip) if x and MARK_START in x), body_snip or lede_snip)
        hits.append(SearchHit(url, title, lg, pub, _as_datetime(fetched), snip or "", float(score)))
    return hits


def _pg_search(session: Session, query: str, *, lang: str | None, limit: int, raw: bool) -> list[SearchHit]:
    """PostgreSQL: every term (``term*`` a prefix), or with ``raw`` web-search syntax (OR, -word,
    "phrases"), ranked by ``ts_rank`` over the weighted document."""
    params: dict[str, object] = {"limit": limit}
    if raw:
        tsquery = "websearch_to_tsquery('simple', :q)"
        params["q"] = query
    else:
        parts = []
        for i, term in enumerate(query.split()):
            if term.endswith("*") and len(term) > 1:
                parts.append(f"to_tsquery('simple', :t{i})")
                params[f"t{i}"] = "'" + term.rstrip("*").replace("'", "''") + "':*"
            else:
                parts.append(f"plainto_tsquery('simple', :t{i})")
                params[f"t{i}"] = term
        tsquery = " && ".join(parts)
    if lang:
        params["lang"] = lang
    sql = f"""
        SELECT a.url, a.title, a.lang, a.published, a.fetched_at, a.lede, a.body,
               ts_rank({PG_DOCUMENT}, q) AS score
        FROM articles AS a, (SELECT {tsquery} AS q) AS query
        WHERE ({PG_DOCUMENT}) @@ q {"AND a.lang = :lang" if lang else ""}
        ORDER BY score DESC, a.fetched_at DESC LIMIT :limit
    """
    terms = [t.strip('*"-') for t in query.split() if t.strip('*"-') and (not raw or t.upper() != "OR")]
    hits = []
    for url, title, lg, pub, fetched, lede, body, score in session.execute(text(sql), params).all():
        full = "\n\n".join(p for p in (title, lede, body) if p)
        hits.append(
            SearchHit(url, title, lg, pub, _as_datetime(fetched), _snippet(full, terms), float(score))
        )
    return hits


def _as_datetime(value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _scan(session: Session, query: str, *, lang: str | None, limit: int) -> list[SearchHit]:
    """Substring search (every term somewhere in title, lede or body), newest first."""
    terms = [t.rstrip("*") for t in query.split() if t.rstrip("*")]
    where: list[str] = []
    params: dict[str, object] = {"limit": limit}
    for i, term in enumerate(terms):
        params[f"t{i}"] = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            f"(coalesce(title, '') LIKE :t{i} ESCAPE '\\' OR coalesce(lede, '') LIKE :t{i} ESCAPE '\\' "
            f"OR body LIKE :t{i} ESCAPE '\\')"
        )
    if lang:
        where.append("lang = :lang")
        params["lang"] = lang
    sql = (
        "SELECT url, title, lang, published, fetched_at, lede, body FROM articles WHERE "
        + " AND ".join(where)
        + " ORDER BY fetched_at DESC LIMIT :limit"
    )
    hits = []
    for url, title, lg, pub, fetched, lede, body in session.execute(text(sql), params).all():
        full = "\n\n".join(p for p in (title, lede, body) if p)
        hits.append(SearchHit(url, title, lg, pub, _as_datetime(fetched), _snippet(full, terms), 0.0))
    return hits


def _snippet(full: str, terms: list[str]) -> str:
    lower = full.lower()
    positions = [(lower.find(t.lower()), t) for t in terms]
    found = [(p, t) for p, t in positions if p >= 0]
    if not found:
        return full[:_SNIPPET_CHARS]
    pos, _ = min(found)
    start = max(0, pos - _SNIPPET_CHARS // 3)
    piece = full[start : start + _SNIPPET_CHARS].replace("\n", " ")
    for term in sorted(terms, key=len, reverse=True):
        piece = re.sub(
            re.escape(term), lambda m: MARK_START + m.group(0) + MARK_END, piece, flags=re.IGNORECASE
        )
    return ("…" if start else "") + piece + ("…" if start + _SNIPPET_CHARS < len(full) else "")
