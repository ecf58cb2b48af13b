"""Errors of the pipeline: permanent (bad input) versus transient (a service is down)."""

from models.errors import SohoaError


class InputRejectedError(SohoaError):
    """Bad input: corrupt, unsupported, too large or of the wrong kind. Permanent; never retried."""


class TransientError(SohoaError):
    """A service is unavailable; the work is retried with backoff."""
