"""Domain errors."""


class SohoaError(Exception):
    """Base of the errors this package raises."""


class NotFoundError(SohoaError, LookupError):
    """No capture or record with that id."""


class NotYetRecordedError(NotFoundError):
    """The aggregate exists, but had no events at the requested time."""
