"""Clean-text news archiver: core library (items, extraction, language tagging, CLI)."""

from __future__ import annotations

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
