"""The one logging set-up: plain lines on a terminal, or one JSON object per line.

`SOHOA_LOG_FORMAT=json` writes each record as a JSON object (timestamp, level, logger,
message, and the job's `capture_id`, `job_key`, `stage`, `queue`, `duration_s` and `outcome`
when the caller passed them with `extra=`), for a log shipper. Either way, ID-card numbers
(9 or 12 digits), and anything written as `password=…`, `token=…` or a bearer token, are masked
in the message: owner names never reach a log line in the first place (the pipeline logs ids,
stages and outcomes, not certificate text).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CONTEXT = ("capture_id", "job_key", "stage", "queue", "duration_s", "outcome", "route", "status")
"""`extra=` keys a JSON line carries when a record has them."""
_ID_NUMBER = re.compile(r"(?<![\d-])(\d{9}|\d{12})(?![\d-])")
_SECRET = re.compile(r"(?i)\b(password|passwd|secret|token|bearer)(\s*[=:]\s*|\s+)(\S+)")


def mask(text: str) -> str:
    """The message with ID numbers and secrets replaced by `***`."""
    return _SECRET.sub(r"\1\2***", _ID_NUMBER.sub("***", text))


class JsonFormatter(logging.Formatter):
    """One JSON object per record; a traceback goes in `exc_info` as text."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": mask(record.getMessage()),
        }
        for key in CONTEXT:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Plain lines, masked; with `brief`, a traceback is replaced by where it was written
    (`$SOHOA_DATA_DIR/logs/sohoa.log`), not forty lines amid a batch's verdicts."""

    def __init__(self, brief_to: Path | None = None) -> None:
        super().__init__(TEXT_FORMAT)
        self.brief_to = brief_to

    def format(self, record: logging.LogRecord) -> str:
        if self.brief_to is not None and record.exc_info:
            copy = logging.makeLogRecord(record.__dict__)
            copy.exc_info, copy.exc_text = None, None
            return f"{mask(super().format(copy))} (traceback in {self.brief_to})"
        return mask(super().format(record))


class LogFile(logging.FileHandler):
    """The log file, created with its folder only when something is first written: a command
    that logs nothing leaves no trace in the data folder (the demo checks it is its own)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, encoding="utf-8", delay=True)

    def _open(self):
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()

    def handleError(self, record: logging.LogRecord) -> None:  # a read-only folder: say so once
        self.close()
        logging.getLogger().removeHandler(self)


def configure_logging(verbose: bool, log_file: Path, log_format: str = "text") -> None:
    """The root logger for a `sohoa` process: the terminal (stderr) and `log_file`.

    `log_format` "json" makes both JSON lines (tracebacks included, one line each)."""
    if log_format not in FORMATS:
        raise ValueError(f"SOHOA_LOG_FORMAT must be one of {FORMATS}, got {log_format!r}")
    to_file = LogFile(log_file)
    terminal = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        to_file.setFormatter(JsonFormatter())
        terminal.setFormatter(JsonFormatter())
    else:
        to_file.setFormatter(TextFormatter())
        terminal.setFormatter(TextFormatter(brief_to=log_file))
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, handlers=[to_file, terminal], force=True)
    for noisy in ("dramatiq", "pika"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose else logging.ERROR)
