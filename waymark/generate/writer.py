"""Streaming, partitioned file writers: one shard per worker, bounded memory.

Rows are buffered per partition (an events day or a CSV month) and appended to that
partition's file when the buffer grows, so memory stays bounded however many people are
generated. Every shard writes only its own files (``...-<shard>.<ext>``), so workers never share
a file handle and the bytes depend only on the rows and their order.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path
from typing import BinaryIO

from waymark.generate.contracts import CSV_COLUMNS, EVENTS

_PARTITION_FLUSH_CHARS = 256 * 1024
_TOTAL_FLUSH_CHARS = 8 * 1024 * 1024  # CSV buffers may hold 4 bytes a character


class _CsvPartition:
    """A CSV file's pending rows; the csv module guarantees valid quoting."""

    __slots__ = ("buffer", "writer")

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\n")


class ShardWriter:
    """Writes one shard's events (JSONL per UTC day) and CSV rows (per UTC month)."""

    def __init__(self, out: Path, shard: int, gzip_events: bool) -> None:
        self.out = out
        self.shard = shard
        self.gzip_events = gzip_events
        self.counts: dict[str, int] = {EVENTS: 0, **dict.fromkeys(CSV_COLUMNS, 0)}
        self._events: dict[str, list[bytes]] = {}
        self._event_chars: dict[str, int] = {}
        self._csv: dict[tuple[str, str], _CsvPartition] = {}
        self._files: dict[tuple[str, str], BinaryIO] = {}
        self._raw_files: list[BinaryIO] = []
        self._pending = 0

    def event(self, day: str, line: bytes) -> None:
        """Queue one UTF-8 JSON line (no newline) for the events file of UTC day ``day``."""
        lines = self._events.get(day)
        if lines is None:
            lines = self._events[day] = []
            self._event_chars[day] = 0
        lines.append(line)
        size = len(line) + 1
        self._event_chars[day] += size
        self._pending += size
        self.counts[EVENTS] += 1
        if self._event_chars[day] > _PARTITION_FLUSH_CHARS:
            self._flush_events(day)
        if self._pending > _TOTAL_FLUSH_CHARS:
            self.flush()

    def row(self, source: str, month: str, values: list[str]) -> None:
        """Queue one CSV row (values in contract column order) for ``source``'s month file."""
        key = (source, month)
        part = self._csv.get(key)
        if part is None:
            part = self._csv[key] = _CsvPartition()
        before = part.buffer.tell()
        part.writer.writerow(values)
        after = part.buffer.tell()
        self._pending += after - before
        self.counts[source] += 1
        if after > _PARTITION_FLUSH_CHARS:
            self._flush_csv(key)
        if self._pending > _TOTAL_FLUSH_CHARS:
            self.flush()

    def flush(self) -> None:
        """Write every pending buffer to its file."""
        for day in list(self._events):
            self._flush_events(day)
        for key in list(self._csv):
            self._flush_csv(key)
        self._pending = 0

    def close(self) -> None:
        """Flush and close every file this shard opened."""
        self.flush()
        for handle in self._files.values():
            handle.close()
        for raw in self._raw_files:
            raw.close()
        self._files.clear()
        self._raw_files.clear()

    def _flush_events(self, day: str) -> None:
        lines = self._events.get(day)
        if not lines:
            return
        handle = self._open((EVENTS, day))
        handle.write(b"\n".join(lines) + b"\n")
        self._pending -= self._event_chars[day]
        lines.clear()
        self._event_chars[day] = 0

    def _flush_csv(self, key: tuple[str, str]) -> None:
        part = self._csv[key]
        text = part.buffer.getvalue()
        if not text:
            return
        self._open(key).write(text.encode("utf-8"))
        self._pending -= len(text)
        part.buffer.seek(0)
        part.buffer.truncate(0)

    def _open(self, key: tuple[str, str]) -> BinaryIO:
        handle = self._files.get(key)
        if handle is not None:
            return handle
        source, partition = key
        folder = self.out / source
        folder.mkdir(parents=True, exist_ok=True)
        if source == EVENTS:
            suffix = ".jsonl.gz" if self.gzip_events else ".jsonl"
            path = folder / f"{partition}-{self.shard}{suffix}"
        else:
            path = folder / f"{source}-{partition}-{self.shard}.csv"
        raw: BinaryIO = path.open("wb")
        if source == EVENTS and self.gzip_events:
            self._raw_files.append(raw)
            # mtime=0 and no file name in the header keep the bytes reproducible.
            handle: BinaryIO = gzip.GzipFile(
                filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0
            )  # type: ignore[assignment]
        else:
            handle = raw
        if source != EVENTS:
            header = io.StringIO()
            csv.writer(header, lineterminator="\n").writerow(CSV_COLUMNS[source])
            handle.write(header.getvalue().encode("utf-8"))
        self._files[key] = handle
        return handle
