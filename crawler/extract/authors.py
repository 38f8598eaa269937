"""Who wrote the article: the persons (``authors``, every one the page names) apart from the
organisations credited (``credit``: the publisher itself, "Staff", "Agencies", a news agency, a JSON-LD
``Organization``).

Sources: the JSON-LD ``author`` of the article object (all of them, persons and organisations told
apart by their ``@type``), else the author ``<meta>`` tags, each split into names ("A, B and C", "Von A
und B") and stripped of "By"/"Von"/"Par" and of a trailing "| Site"; where these name nobody, the
page's visible byline (``itemprop=author``, ``rel=author``, an element of class ``author``/``byline``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lxml.html import HtmlElement

from crawler.extract.metadata import PageMeta
from crawler.text import clean_text

__all__ = ["Byline", "is_organisation", "page_authors", "split_names"]

_ORG_TYPES = {
    "organization",
    "newsmediaorganization",
    "corporation",
    "governmentorganization",
    "ngo",
    "educationalorganization",
    "localbusiness",
}
# News agencies and their usual spellings in bylines (casefolded, whole name).
_AGENCIES = {
    "afp",
    "agence france-presse",
    "agence france presse",
    "ap",
    "associated press",
    "the associated press",
    "reuters",
    "thomson reuters",
    "dpa",
    "deutsche presse-agentur",
    "epd",
    "kna",
    "afp/dpa",
    "dpa/afp",
    "apa",
    "sda",
    "keystone-sda",
    "ats",
    "ansa",
    "efe",
    "europa press",
    "pa",
    "pa media",
    "press association",
    "aap",
    "australian associated press",
    "cp",
    "the canadian press",
    "anp",
    "belga",
    "tt",
    "ntb",
    "ritzau",
    "pap",
    "ctk",
    "mti",
    "tass",
    "ria novosti",
    "interfax",
    "xinhua",
    "kyodo",
    "kyodo news",
    "yonhap",
    "ani",
    "pti",
    "ians",
    "upi",
    "bloomberg",
    "agencies",
    "agences",
    "agenturen",
    "wires",
    "wire services",
    "news agencies",
}
# Words that make a name an organisation's credit rather than a person's.
_ORG_WORDS = re.compile(
    r"\b(?:staff|agenc(?:y|ies)|agentur(?:en)?|redaktion|rédaction|redacción|redazione|redactie|newsroom|"
    r"editorial|editors|desk|team|news ?service|wire|presse-agentur|press|online|media|group|gmbh|ltd|inc)\b",
    re.IGNORECASE,
)
_LEADING = re.compile(
    r"^(?:by|von|par|por|door|av|af|från|przez|автор|от|text(?:e)?|written by|reporting by)\s*[:\-]?\s+",
    re.IGNORECASE,
)
_SPLIT = re.compile(
    r"\s*(?:,|;|/|\s&\s|\s\+\s|\band\b|\bund\b|\bet\b|\by\b|\be\b|\bou\b|\ben\b|\boch\b|\bog\b|\bi\b|\bи\b)\s*",
    re.IGNORECASE,
)
_NO_NAME = re.compile(r"https?://|@|\d{3,}|^\W*$|^[a-z0-9]+(?:-[a-z0-9]+)+$")  # URLs, e-mails, slugs


@dataclass(frozen=True)
class Byline:
    """The page's authors (persons) and credit (organisations), names clean and each once."""

    authors: list[str] = field(default_factory=list)
    credit: list[str] = field(default_factory=list)

    @property
    def joined(self) -> str | None:
        """The authors as one string (``A, B``), as the ``author`` field has always held them."""
        return ", ".join(self.authors) or None


def _clean_name(name: str) -> str:
    name = clean_text(name)
    name = re.split(r"\s+[|–—]\s+|\s+-\s+", name)[0]  # "Jane Doe | Site", "Jane Doe - Site"
    name = _LEADING.sub("", name).strip(" .,:;-–—|·")
    return name


def split_names(text: str) -> list[str]:
    """The names in a byline: ``"By A, B and C"`` -> ``[A, B, C]``; a lone name is kept whole."""
    text = _LEADING.sub("", clean_text(text))
    if "://" in text:  # a profile link, not a byline
        return []
    text = re.split(r"\s+[|–—]\s+", text)[0]
    # Agency pairs written with a slash stay apart; a person's "Surname, Given" is rare in news bylines.
    parts = [_clean_name(p) for p in _SPLIT.split(text)]
    return [p for p in parts if p and not _NO_NAME.search(p) and len(p) <= 80]


def is_organisation(name: str, own_names: set[str]) -> bool:
    """Whether ``name`` credits an organisation (an agency, the publisher, a desk) rather than a person."""
    key = name.casefold().strip()
    return key in _AGENCIES or _own(key, own_names) or bool(_ORG_WORDS.search(name))


def _own(key: str, own_names: set[str]) -> bool:
    """Whether the casefolded ``key`` is the publisher's name, or holds it as whole words ("ORF.at",
    "Redaktion Kicker")."""
    return key in own_names or any(
        len(own) >= 3 and re.search(rf"(?<!\w){re.escape(own)}(?!\w)", key) for own in own_names
    )


def _ld_names(value: Any, ids: dict[str, dict[str, Any]]) -> list[tuple[str, bool]]:
    """(name, stated to be an organisation) for each JSON-LD author value; a reference (``{"@id": ...}``)
    is read from the object of that @id (``ids``) elsewhere on the page."""
    out: list[tuple[str, bool]] = []
    if isinstance(value, dict) and "name" not in value and isinstance(value.get("@id"), str):
        value = ids.get(value["@id"], value)
    if isinstance(value, str):
        out.extend((n, False) for n in split_names(value))
    elif isinstance(value, dict):
        types = value.get("@type")
        types = types if isinstance(types, list) else [types]
        org = any(str(t).lower() in _ORG_TYPES for t in types if t)
        name = value.get("name")
        if isinstance(name, list):
            name = next((n for n in name if isinstance(n, str)), None)
        if not isinstance(name, str) and value.get("givenName"):
            name = f"{value.get('givenName')} {value.get('familyName') or ''}"
        if isinstance(name, str):
            out.extend((n, org) for n in (split_names(name) if not org else [_clean_name(name)]) if n)
    elif isinstance(value, list):
        for v in value:
            out.extend(_ld_names(v, ids))
    return out


_BYLINE_CLASS = re.compile(
    r"^(?:[\w-]*[-_])?(?:author|authors|byline|autor|auteur|authorname)(?:[-_]{1,2}(?:name|list-item|item|link|text))?$",
    re.IGNORECASE,
)
_BYLINE_MAX_CHARS = 80


def _byline_kind(el: HtmlElement) -> int | None:
    """0: ``itemprop=author``, 1: ``<a rel=author>``, 2: an element of class author/byline; None: none."""
    if (el.get("itemprop") or "").lower() == "author":
        return 0
    if el.tag == "a" and (el.get("rel") or "").lower() == "author":
        return 1
    if any(_BYLINE_CLASS.match(c) for c in (el.get("class") or "").split()):
        return 2
    return None


def _byline_texts(tree: HtmlElement) -> list[str]:
    """The texts of the page's visible byline: the first kind of byline element found (in the order of
    :func:`_byline_kind`), inside ``<article>`` before the whole page. One pass over the page."""
    scopes = [s for s in (tree.find(".//article"), tree) if s is not None]
    for scope in scopes:
        found: dict[int, list[str]] = {}
        for el in scope.iter():
            if not isinstance(el.tag, str) or el.tag in ("script", "style", "img", "meta"):
                continue
            kind = _byline_kind(el)
            if kind is None:
                continue
            named = el.find(".//*[@itemprop='name']")
            text = (named.get("content") or named.text_content()) if named is not None else el.text_content()
            text = clean_text(text or "")
            if text and len(text) <= _BYLINE_MAX_CHARS:
                found.setdefault(kind, []).append(text)
        if found:
            return found[min(found)]
    return []


def page_authors(
    meta: PageMeta, site_name: str | None, host: str | None, tree: HtmlElement | None = None
) -> Byline:
    """The authors and credit of the page described by ``meta`` (``site_name``, ``host``: whose page;
    ``tree``: the page, for its visible byline)."""
    own = {n.casefold() for n in (site_name, meta.site_name, meta.ld_publisher) if n}
    if host:
        label = host.removeprefix("www.").split(".")[0]
        own.add(label.casefold())
    names: list[tuple[str, bool]] = []
    for value in meta.ld_authors:
        names.extend(_ld_names(value, meta.ld_ids))
    if not names:
        for content in meta.meta_authors:
            names.extend((n, False) for n in split_names(content))
    if not names and tree is not None:
        names = [(n, False) for t in _byline_texts(tree) for n in split_names(t)]
    authors, credit = _sort(names, own)
    return Byline(authors=list(authors.values()), credit=list(credit.values()))


def _sort(names: list[tuple[str, bool]], own: set[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Persons and organisations of ``names``, each once (by casefolded name), in order."""
    authors: dict[str, str] = {}
    credit: dict[str, str] = {}
    for name, org in names:
        target = credit if org or is_organisation(name, own) else authors
        target.setdefault(name.casefold(), name)
    for key in list(credit):
        authors.pop(key, None)
    return authors, credit
