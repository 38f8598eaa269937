"""Blocks from trafilatura: running trafilatura (its full mode), flattening its output tree into
:class:`~crawler.boilerplate.Block` objects, and the rule-based boilerplate pass over them
(:func:`crawler.boilerplate.clean_blocks`)."""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.settings import Extractor
from trafilatura.xml import xmltotxt

from crawler.boilerplate import Block, clean_blocks
from crawler.extract.decode import html_text
from crawler.extract.options import ExtractOptions
from crawler.text import MARKUP_RE, clean_text, normalise_line

__all__ = ["blocks_of", "extract_blocks", "run_trafilatura"]

_BLOCK_TAGS = {"p", "head", "quote", "code", "item", "cell", "list", "table", "row", "div"}


def _link_chars(el: etree._Element) -> int:
    return sum(len(clean_text("".join(ref.itertext()))) for ref in el.iter("ref"))


def blocks_of(body: etree._Element | None) -> list[Block]:
    """Flatten trafilatura's output tree into blocks, one per paragraph, heading or list item.

    The tree is modified (links are unwrapped once their share of each block has been counted).
    """
    if body is None:
        return []
    entries: list[tuple[etree._Element, str, int]] = []
    group = 0

    def walk(el: etree._Element) -> None:
        nonlocal group
        for child in el:
            tag = child.tag
            if not isinstance(tag, str) or tag in ("graphic", "lb"):
                continue
            if tag == "list":
                group += 1
                entries.extend((item, "item", group) for item in child.iterchildren("item"))
            elif tag == "table":
                rows = [r for r in child.iter("row") if next(r.iterancestors("table"), None) is child]
                cells = [c for r in rows for c in r.iterchildren("cell")]
                if any(c.find("p") is not None or c.find("head") is not None for c in cells):
                    # A layout table: its cells hold paragraphs, not data.
                    for cell in cells:
                        walk(cell)
                else:
                    group += 1
                    entries.extend((row, "cell", group) for row in rows)
            elif tag == "quote" and len(child) and all(c.tag in _BLOCK_TAGS for c in child):
                walk(child)
            elif tag in ("head", "p", "code"):
                entries.append((child, tag, -1))
            else:
                entries.append((child, "p", -1))

    walk(body)
    links = [_link_chars(el) for el, _, _ in entries]
    etree.strip_tags(body, "ref")
    blocks: list[Block] = []
    for (el, kind, grp), link_chars in zip(entries, links, strict=True):
        text = xmltotxt(el, False)
        if MARKUP_RE.search(text):  # the page's text holds its own markup, escaped: text it is not
            text = html_text(text)
        lines = [line for line in (clean_text(x) for x in text.split("\n")) if line]
        total = sum(len(line) for line in lines) or 1
        for line in lines:
            # A line broken off a block (<br>) gets the block's link share as its estimate.
            blocks.append(Block(line, kind, round(link_chars * len(line) / total), grp))
    return blocks


def run_trafilatura(tree: HtmlElement, opts: ExtractOptions, fast: bool) -> Any:
    """trafilatura's document (body tree and text) for ``tree``, or None."""
    doc = trafilatura.bare_extraction(tree, options=_trafilatura_options(opts.include_tables, fast))
    if doc is None or isinstance(doc, dict):  # a dict only with as_dict=True, which we never ask for
        return None
    return doc


@functools.lru_cache(maxsize=8)
def _trafilatura_options(include_tables: bool, fast: bool) -> Extractor:
    """The options ``bare_extraction`` builds from the keyword arguments below, built once: reading
    them from trafilatura's config costs about 0.1 ms a call, and trafilatura never modifies them.

    No URL is given: trafilatura uses it only to resolve link targets (``urljoin`` on every link of
    the page, a good share of its time), and we read links' text, never their targets.
    """
    return Extractor(
        output_format="python",
        fast=fast,
        comments=False,
        formatting=False,
        links=True,
        images=False,
        tables=include_tables,
        url=None,
        with_metadata=False,
    )


def _clean(doc: Any, tree: HtmlElement, opts: ExtractOptions) -> tuple[list[Block], list[Block]]:
    raw = _with_page_links(blocks_of(doc.body), tree)
    kept = clean_blocks(
        raw,
        extra_lines=opts.extra_boilerplate_lines,
        extra_prefixes=opts.extra_boilerplate_prefixes,
        site_lines=opts.site_boilerplate,
        link_ratio=opts.link_ratio,
    )
    return raw, kept


def _with_page_links(blocks: list[Block], tree: HtmlElement) -> list[Block]:
    """``blocks`` where a block that trafilatura gave without link marks (its fallback extractors
    drop them) but whose whole text is the text of a link of the page counts as a link line."""
    if not any(b.link_chars == 0 for b in blocks):
        return blocks
    anchors = {normalise_line(a.text_content()) for a in tree.iter("a")}
    anchors.discard("")
    return [
        replace(b, link_chars=len(b.text)) if b.link_chars == 0 and normalise_line(b.text) in anchors else b
        for b in blocks
    ]


def extract_blocks(tree: HtmlElement, opts: ExtractOptions) -> tuple[list[Block], list[Block]] | None:
    """(trafilatura's blocks, those the boilerplate pass keeps) for the page ``tree``, or None.

    trafilatura's full mode, which checks its own extraction against readability's and jusText's:
    its fast mode alone truncates pages whose text is not in ``<p>`` elements (measured on the
    older shared pages: F1 0.902 with fast mode first, 0.905 without; median time 1.04x -> 1.15x
    bare trafilatura).
    """
    doc = run_trafilatura(tree, opts, fast=False)
    if doc is None:
        return None
    return _clean(doc, tree, opts)
