"""Generated news sites for crawl tests: many small, distinct article pages under a folder.

``write_site(root, n)`` writes ``/index.html`` (the home page), ``/news/story-N.html`` article
pages, ``/sitemap.xml`` (with ``lastmod``) and ``/robots.txt``; served with
:func:`crawler.siteserver.serve_directory`, which substitutes ``{{BASE}}`` and answers
conditional requests with 304.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_SUBJECTS = (
    "The council",
    "A local charity",
    "The city library",
    "Volunteers",
    "The school board",
    "Residents",
    "The transport office",
    "A group of farmers",
    "The hospital trust",
    "Engineers",
)
_VERBS = (
    "announced",
    "discussed",
    "rejected",
    "approved",
    "questioned",
    "welcomed",
    "reviewed",
    "postponed",
    "celebrated",
    "examined",
)
_OBJECTS = (
    "a new plan for the riverside",
    "the budget for next year",
    "longer opening hours",
    "repairs to the old bridge",
    "a cleaner water supply",
    "more buses on the northern route",
    "a programme for young readers",
    "the results of a long survey",
    "changes to parking rules",
    "a festival in the market square",
)
_TAILS = (
    "after a long meeting on Tuesday evening",
    "despite some objections from neighbours",
    "with support from several businesses",
    "following months of careful planning",
    "according to a statement published this week",
    "as the winter season approaches",
)


def _sentence(rng: random.Random) -> str:
    return f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_TAILS)}."


def story_paragraphs(n: int, paragraphs: int = 4) -> list[str]:
    """Distinct English paragraphs for story ``n`` (deterministic)."""
    rng = random.Random(n)
    out = []
    for p in range(paragraphs):
        sentences = [_sentence(rng) for _ in range(3)]
        sentences.append(f"Reporters counted {n * 7 + p} people at the event in district {n % 13}.")
        out.append(" ".join(sentences))
    return out


def story_html(n: int, paragraphs: Sequence[str] | None = None, links: Sequence[int] = ()) -> str:
    """The HTML of article page ``n``; ``links`` adds a related-stories list."""
    paras = list(paragraphs) if paragraphs is not None else story_paragraphs(n)
    title = f"Story {n}: {_OBJECTS[n % len(_OBJECTS)].capitalize()} in district {n % 13}"
    body = "\n".join(f"<p>{p}</p>" for p in paras)
    related = "".join(f'<li><a href="{{{{BASE}}}}/news/story-{m}.html">Story {m}</a></li>' for m in links)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | The Test Gazette</title>
<meta property="og:title" content="{title}"><meta property="og:type" content="article">
<link rel="canonical" href="{{{{BASE}}}}/news/story-{n}.html"></head>
<body><header><a href="{{{{BASE}}}}/">The Test Gazette</a></header>
<main><article><h1>{title}</h1>
{body}
</article>
<aside><h2>Related</h2><ul>{related}</ul></aside></main>
<footer><p>Copyright The Test Gazette</p></footer></body></html>
"""


def write_site(
    root: Path,
    n: int,
    *,
    children: int = 0,
    home_links: int | None = None,
    lastmod: str = "2020-01-01T00:00:00+00:00",
) -> list[str]:
    """Write a site of ``n`` stories; return the article paths.

    The home page links the first ``home_links`` stories (all by default); with ``children``,
    story ``i`` links stories ``home_links + i*children ...`` (a tree two levels deep).
    """
    root = Path(root)
    (root / "news").mkdir(parents=True, exist_ok=True)
    first = n if home_links is None else home_links
    paths = []
    for i in range(n):
        links = (
            range(first + i * children, min(n, first + (i + 1) * children)) if children and i < first else ()
        )
        (root / "news" / f"story-{i}.html").write_text(story_html(i, links=links), encoding="utf-8")
        paths.append(f"/news/story-{i}.html")
    items = "".join(
        f'<li><a href="{{{{BASE}}}}/news/story-{i}.html">Story {i}</a></li>' for i in range(first)
    )
    (root / "index.html").write_text(
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>The Test Gazette</title></head>
<body><h1>The Test Gazette</h1><ul>{items}</ul></body></html>
""",
        encoding="utf-8",
    )
    urls = "".join(f"<url><loc>{{{{BASE}}}}{p}</loc><lastmod>{lastmod}</lastmod></url>" for p in paths)
    (root / "sitemap.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n',
        encoding="utf-8",
    )
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n", encoding="utf-8")
    return paths


def touch_later(path: Path, seconds: float = 5) -> None:
    """Move a file's mtime forward so Last-Modified changes (the ETag follows the bytes)."""
    st = path.stat()
    os.utime(path, (st.st_atime + seconds, st.st_mtime + seconds))


def invoke(*args: str) -> Any:
    """Run a ``crawler`` command in this process (not ``crawl``: it starts a reactor); returns
    click's Result (``exit_code``, ``stdout``, ``stderr``)."""
    from click.testing import CliRunner

    from crawler.cli import _register, cli

    _register()
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)
