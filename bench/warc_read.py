"""Reading WARC files: warcio against fastwarc, and both against the whole ingest's cost per record.

Usage: python bench/warc_read.py [--pages 1000] [--files 4] [--rounds 3]   (fastwarc installed for it)

The files are bench/warc_ingest.py's (bench/throughput.py's pages of ``../shared/corpus-dev``, each a
request and a response record, gzip per record, written with warcio). Timed in this process, CPU
time, best of ``--rounds``, over every record of every file:

- ``warcio``: warcio's ``ArchiveIterator``, each response's HTTP payload read (``content_stream``);
- ``read_records``: what ``crawler ingest`` reads with (crawler/warc_ingest.py: warcio, plus each
  record read to its end, its offset and a payload digest when the record has none);
- ``fastwarc`` (2.x): fastwarc's ``ArchiveIterator`` on the file, HTTP headers parsed, encodings
  undone, each response's payload read.

The gain fastwarc could bring to a whole ingest is at most the reading time it saves per record,
against the ingest's CPU per record (main process and workers), which bench/warc_ingest.py measures.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.throughput import CORPUS, BenchSite, load_corpus, make_template
from bench.warc_ingest import write_warcs


def read_warcio(paths: list[Path]) -> tuple[int, int]:
    from warcio.archiveiterator import ArchiveIterator

    records = payload = 0
    for path in paths:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                records += 1
                if record.rec_type == "response":
                    payload += len(record.content_stream().read())
    return records, payload


def read_ours(paths: list[Path]) -> tuple[int, int]:
    from crawler.warc_ingest import WarcEntry, read_records

    records = payload = 0
    for path in paths:
        for entry in read_records(path):
            records += 1
            if isinstance(entry, WarcEntry) and entry.rec_type == "response":
                payload += len(entry.payload)
    return records, payload


def read_fastwarc(paths: list[Path]) -> tuple[int, int]:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    records = payload = 0
    for path in paths:
        # Every record type, HTTP headers parsed, transfer and content encodings undone (as warcio's
        # content_stream does); the gzip members detected from the file.
        for record in ArchiveIterator(str(path), parse_http=True, auto_decode="all", fsspec_args=False):
            records += 1
            if record.record_type == WarcRecordType.response:
                payload += len(record.reader.read())
    return records, payload


def best(
    read: Callable[[list[Path]], tuple[int, int]], paths: list[Path], rounds: int
) -> tuple[float, int, int]:
    times = []
    for _ in range(rounds):
        started = time.process_time()
        records, payload = read(paths)
        times.append(time.process_time() - started)
    return min(times), records, payload


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if not (CORPUS / "truth.jsonl").exists():
        print(f"no corpus at {CORPUS}", file=sys.stderr)
        return 2
    readers: dict[str, Callable[[list[Path]], tuple[int, int]]] = {
        "warcio": read_warcio,
        "read_records": read_ours,
    }
    try:
        import fastwarc  # noqa: F401
    except ImportError:
        print("fastwarc is not installed: warcio only (pip install fastwarc)")
    else:
        readers["fastwarc"] = read_fastwarc
    templates = [make_template(*page) for page in load_corpus(CORPUS)]
    site = BenchSite(templates, args.pages)  # not served: only its pages are read
    site.server_close()
    with tempfile.TemporaryDirectory(prefix="bench-warc-read-") as tmp:
        paths = [Path(tmp) / f"part-{i:02d}.warc.gz" for i in range(args.files)]
        count = write_warcs(site, paths)
        size = sum(p.stat().st_size for p in paths)
        print(f"WARC: {count} records in {args.files} files, {size / 1e6:.1f} MB")
        figures = {}
        for name, read in readers.items():
            seconds, records, payload = best(read, paths, args.rounds)
            assert records == count, (name, records, count)
            figures[name] = seconds
            print(
                f"{name:>12}: {seconds:.2f} s CPU = {records / seconds:,.0f} records/s, "
                f"{1000 * seconds / records:.3f} ms/record ({payload / 1e6:.1f} MB of payload)"
            )
        if "fastwarc" in figures:
            print(f"read_records / fastwarc: {figures['read_records'] / figures['fastwarc']:.1f}x the CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
