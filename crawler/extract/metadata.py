"""Structured metadata of a page: <title>, <meta> tags (Open Graph, Twitter, Dublin Core...), <h1>
texts, <link rel=canonical> and JSON-LD, read once into a :class:`PageMeta`; publication dates,
authors, the declared language and the site's name from them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any

from lxml.html import HtmlElement

from crawler.extract.decode import html_text
from crawler.lang import normalise_lang
from crawler.text import clean_text

__all__ = [
    "MODIFIED_META_KEYS",
    "PUBLISHED_META_KEYS",
    "PageMeta",
    "author_of",
    "declared_lang",
    "iso_date",
    "published_date",
    "read_meta",
    "site_name_of",
    "url_host",
]

_ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "backgroundnewsarticle",
    "reviewnewsarticle",
    "blogposting",
    "socialmediaposting",
    "liveblogposting",
    "report",
    "scholarlyarticle",
    "techarticle",
    "webpage",
    "creativework",
}


@dataclass
class PageMeta:
    """What the page says about itself, as read by :func:`read_meta`: text, never markup (values
    that hold HTML or character references are converted by :func:`~crawler.extract.decode.html_text`), not yet
    whitespace-cleaned."""

    title_tag: str | None = None
    og_title: str | None = None
    twitter_title: str | None = None
    h1: list[str] = field(default_factory=list)
    ld_headline: str | None = None
    ld_body: str | None = None
    ld_description: str | None = None
    ld_lang: str | None = None
    ld_type: str | None = None
    ld_author: str | None = None
    ld_authors: list[Any] = field(default_factory=list)  # the article's JSON-LD author values, as given
    ld_date: str | None = None
    ld_modified: str | None = None
    ld_free: bool | None = None  # isAccessibleForFree of the article object
    ld_paywalled_part: bool = False  # a hasPart block not free to read (with its cssSelector)
    ld_word_count: int | None = None
    description: str | None = None
    og_description: str | None = None
    og_type: str | None = None
    site_name: str | None = None
    html_lang: str | None = None
    og_locale: str | None = None
    canonical: str | None = None
    meta_date: str | None = None
    meta_dates: dict[str, str] = field(default_factory=dict)  # date <meta> key -> its first content
    meta_author: str | None = None
    meta_authors: list[str] = field(default_factory=list)  # every author <meta> content, in order
    ld_publisher: str | None = None
    ld_ids: dict[str, dict[str, Any]] = field(default_factory=dict)  # JSON-LD objects by their @id
    ld_other: set[str] = field(default_factory=set)  # non-article JSON-LD types on the page


# <meta> property or name -> the PageMeta field it fills; the first such tag of the page wins.
_META_FIELDS = {
    "og:title": "og_title",
    "twitter:title": "twitter_title",
    "og:description": "og_description",
    "description": "description",
    "og:site_name": "site_name",
    "og:locale": "og_locale",
    "og:type": "og_type",
}
# The date <meta> keys (property, name or itemprop): of the publication and of the last change, each
# in the order its dates are trusted (crawler.extract.dates).
PUBLISHED_META_KEYS = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "published_time",
    "article.published",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.created",
    "dc.date",
    "dcterms.date",
    "pubdate",
    "publishdate",
    "publish-date",
    "cxenseparse:recs:publishtime",
    "date",
)
MODIFIED_META_KEYS = (
    "article:modified_time",
    "og:updated_time",
    "datemodified",
    "dc.date.modified",
    "dcterms.modified",
    "article.updated",
    "parsely-updated",
    "last-modified",
    "lastmod",
)
_DATE_KEYS = frozenset(PUBLISHED_META_KEYS)
_MODIFIED_KEYS = frozenset(MODIFIED_META_KEYS)
_AUTHOR_KEYS = {
    "author",
    "article:author",
    "dc.creator",
    "parsely-author",
    "sailthru.author",
    "byl",
    "twitter:misc:written by",
    "dcsext.author",
}
# twitter:labelN naming what twitter:dataN holds: the author.
_AUTHOR_LABEL_RE = re.compile(
    r"^(?:written by|author|verfasst von|autor|auteur|escrito por|scritto da)", re.IGNORECASE
)
_DATE_RE = re.compile(r"((?:19|20)\d\d)-?([01]\d)-?([0-3]\d)")


def iso_date(value: str | None) -> str | None:
    """``YYYY-MM-DD`` from a machine-readable date string, or None."""
    if not value:
        return None
    m = _DATE_RE.search(value)
    if not m:
        return None
    y, mo, d = m.groups()
    if not (1 <= int(mo) <= 12 and 1 <= int(d) <= 31):
        return None
    return f"{y}-{mo}-{d}"


def _ld_objects(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _ld_objects(item)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _ld_objects(data["@graph"])
        main = data.get("mainEntity")
        if isinstance(main, dict | list):
            yield from _ld_objects(main)


def _ld_types(obj: dict[str, Any]) -> set[str]:
    t = obj.get("@type")
    types = t if isinstance(t, list) else [t]
    return {str(x).lower() for x in types if x}


def _ld_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        return _ld_text(value[0])
    if isinstance(value, dict):
        return _ld_text(value.get("name") or value.get("@value"))
    return None


def _ld_author(value: Any) -> str | None:
    values = value if isinstance(value, list) else [value]
    names = [n for n in (_ld_text(v) for v in values) if n]
    return ", ".join(dict.fromkeys(names)) or None


def read_meta(tree: HtmlElement) -> PageMeta:
    """The metadata of the page ``tree``: the first value of each field wins, except that an article
    type of JSON-LD object overrides a generic one (WebPage, CreativeWork)."""
    meta = PageMeta()
    meta.html_lang = tree.get("lang") or tree.get("xml:lang")
    title = next(tree.iterdescendants("title"), None)
    if title is not None:
        meta.title_tag = title.text_content()
    labels: dict[str, str] = {}
    for el in tree.iterdescendants("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        if key.startswith("twitter:label") and el.get("content"):
            labels[key.removeprefix("twitter:label")] = el.get("content") or ""
        elif key.startswith("twitter:data") and _AUTHOR_LABEL_RE.match(labels.get(key[12:], "")):
            key = "author"
        content = el.get("content")
        if not key or not content:
            if (el.get("http-equiv") or "").lower() == "content-language" and content:
                meta.html_lang = meta.html_lang or content
            continue
        if key in _META_FIELDS:
            name = _META_FIELDS[key]
            setattr(meta, name, getattr(meta, name) or content)
        elif key in _DATE_KEYS or key in _MODIFIED_KEYS:
            if key in _DATE_KEYS:
                meta.meta_date = meta.meta_date or iso_date(content)
            meta.meta_dates.setdefault(key, content)
        elif key in _AUTHOR_KEYS and "://" not in content:
            meta.meta_author = meta.meta_author or content
            if el.get("itemprop") and not (el.get("name") or el.get("property")):
                continue  # microdata in the body: an image's or a quote's author as often as the article's
            meta.meta_authors.append(content)
    for link in tree.iterdescendants("link"):
        if (link.get("rel") or "").lower() == "canonical" and link.get("href"):
            meta.canonical = link.get("href")
            break
    for h1 in tree.iter("h1"):
        text = clean_text(h1.text_content())
        if text:
            meta.h1.append(text)
    for script in tree.iterdescendants("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            continue
        for obj in _ld_objects(data):
            if isinstance(obj.get("@id"), str):
                meta.ld_ids.setdefault(obj["@id"], obj)
            types = _ld_types(obj)
            if not types & _ARTICLE_TYPES:
                meta.ld_other |= types
                continue
            is_article = bool(types - {"webpage", "creativework"})
            if meta.ld_type and not is_article:
                continue
            if is_article or not meta.ld_type:
                meta.ld_type = min(types)
                meta.ld_headline = _ld_text(obj.get("headline")) or meta.ld_headline
                meta.ld_body = _ld_text(obj.get("articleBody")) or meta.ld_body
                meta.ld_description = _ld_text(obj.get("description")) or meta.ld_description
                meta.ld_lang = _ld_text(obj.get("inLanguage")) or meta.ld_lang
                meta.ld_author = _ld_author(obj.get("author")) or meta.ld_author
                meta.ld_date = _ld_text(obj.get("datePublished") or obj.get("dateCreated")) or meta.ld_date
                meta.ld_modified = _ld_text(obj.get("dateModified")) or meta.ld_modified
                if obj.get("author"):
                    authors = obj["author"]
                    meta.ld_authors = authors if isinstance(authors, list) else [authors]
                free = _ld_bool(obj.get("isAccessibleForFree"))
                meta.ld_free = free if free is not None else meta.ld_free
                meta.ld_paywalled_part = meta.ld_paywalled_part or _paywalled_part(obj.get("hasPart"))
                meta.ld_word_count = _ld_int(obj.get("wordCount")) or meta.ld_word_count
                meta.ld_publisher = _ld_text(obj.get("publisher")) or meta.ld_publisher
    for f in fields(meta):
        value = getattr(meta, f.name)
        if isinstance(value, str):
            setattr(meta, f.name, html_text(value))
    meta.h1 = [html_text(h) for h in meta.h1]
    meta.meta_authors = [html_text(a) for a in meta.meta_authors]
    return meta


def _ld_bool(value: Any) -> bool | None:
    """A JSON-LD boolean (``true``, ``"True"``, ``"false"``...), None when absent or not a boolean."""
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _ld_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and value > 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip()) or None
    return None


def _paywalled_part(value: Any) -> bool:
    """Whether a JSON-LD ``hasPart`` names a block of the page that is not free (Google's paywall markup)."""
    parts = value if isinstance(value, list) else [value]
    return any(
        isinstance(p, dict) and _ld_bool(p.get("isAccessibleForFree")) is False and bool(p.get("cssSelector"))
        for p in parts
    )


def published_date(tree: HtmlElement, meta: PageMeta) -> str | None:
    """Publication date from JSON-LD, meta tags or the first <time datetime> of the article."""
    date = iso_date(meta.ld_date) or meta.meta_date
    if date:
        return date
    for scope in (tree.find(".//article"), tree):
        if scope is None:
            continue
        for el in scope.iter("time"):
            date = iso_date(el.get("datetime"))
            if date:
                return date
    return None


def declared_lang(meta: PageMeta, content_language: str | None) -> str | None:
    """The language the page declares (<html lang>, JSON-LD, og:locale, then the HTTP header), or None."""
    for cand in (meta.html_lang, meta.ld_lang, meta.og_locale, content_language):
        code = normalise_lang(cand.split(",")[0] if cand else None)
        if code:
            return code
    return None


def url_host(url: str | None) -> str | None:
    """The host of ``url``, lower-cased (a leading ``www.`` kept), or None."""
    if not url:
        return None
    m = re.match(r"^[a-z][a-z0-9+.-]*://([^/:?#]+)", url, re.IGNORECASE)
    return m.group(1).lower() if m else None


def site_name_of(meta: PageMeta) -> str | None:
    """The site's name as the page gives it (og:site_name, else the JSON-LD publisher), clean."""
    return clean_text(meta.site_name or meta.ld_publisher or "") or None


def author_of(meta: PageMeta) -> str | None:
    """The article's author as the page's metadata gives it (JSON-LD names joined, else the first author
    meta tag), clean: what an author's note names. The article's authors are
    :func:`crawler.extract.authors.page_authors`'s."""
    return clean_text(meta.ld_author or meta.meta_author or "") or None
