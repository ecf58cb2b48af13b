"""Why a certificate field needs review: a code beside the English reason, so pages can say it
in the reader's language (`web.labels.REASONS`), and the checks' two exceptions.

Fields extracted before the codes existed carry only the English text (`reason`); readers show
that text when a field has no `codes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

REASON_CODES = (
    "not_read", "unreadable", "format", "unusual", "zero", "range", "registry_prefix", "form",
    "after_capture", "era", "date_words", "purpose_list", "code_list", "purpose_code",
    "address_unit", "issuer_body", "too_short", "symbols", "no_diacritics", "digits_in_word",
    "not_vietnamese", "unusual_words", "low_confidence", "area_words", "area_polygon",
    "term_before_issue", "qr_disagrees",
)  # fmt: skip
"""Why a field needs review, as a code stored beside the English reason (pages label it in the
reader's language; `args` carry the numbers a label names: `m2`, `qr`)."""


@dataclass(frozen=True)
class Reason:
    """A disagreement between readings: the English text, its code and the values it names."""

    text: str
    code: str
    args: dict[str, Any] = field(default_factory=dict)


class Rejected(Exception):
    """A value that fails its field's format or plausibility check (the message says why)."""

    def __init__(self, reason: str, code: str = "format") -> None:
        super().__init__(reason)
        self.code = code


class Doubtful(Exception):
    """A value that passes but that a person should confirm (kept, flagged, reason given)."""

    def __init__(self, value: Any, reason: str, code: str = "unusual") -> None:
        super().__init__(reason)
        self.value, self.code = value, code
