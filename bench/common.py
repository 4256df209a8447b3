"""Pieces the benchmark scripts share."""

from __future__ import annotations

import logging
from collections import Counter


class LogTally(logging.Handler):
    """Counts WARNING and above per logger, keeping the first message of each."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()
        self.first: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        key = f"{record.levelname} {record.name}"
        self.counts[key] += 1
        self.first.setdefault(key, record.getMessage().replace("\n", " ")[:160])

    def summary(self) -> str:
        if not self.counts:
            return "none"
        return "; ".join(f"{key} x{n} (first: {self.first[key]})"
                         for key, n in self.counts.most_common())
