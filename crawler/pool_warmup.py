"""Warm-up of extraction for the worker pool's fork server (imported there, nowhere else).

:class:`crawler.pool.ExtractionPool` has its fork server import this module once. Importing it
loads what :func:`crawler.extract.extract` otherwise loads on its first calls (the language
detectors' profiles and models, trafilatura's lazy parts: nearly a second of CPU), so that every
worker forked from the server starts warm and shares those pages with its siblings, however often
workers are replaced.
"""

from __future__ import annotations

from crawler.extract import extract
from crawler.lang import langdetect_probs, langid_guess

__all__ = ["warm_up"]

_SAMPLE = (
    "<html lang='en'><head><title>Harbour plan</title></head><body><article><h1>Harbour plan</h1>"
    + "".join(
        f"<p>On day {i} the council agreed that the harbour would be dredged before winter,"
        " so that larger ferries could dock safely in every kind of weather.</p>"
        for i in range(4)
    )
    + "</article></body></html>"
).encode()


def warm_up() -> None:
    """Run extraction and both language detectors once."""
    extract(_SAMPLE, "http://warm-up.invalid/harbour-plan.html")
    langdetect_probs("The council agreed that the harbour would be dredged before winter.")
    langid_guess("The council agreed that the harbour would be dredged before winter.")


warm_up()
