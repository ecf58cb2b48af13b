"""Progress bars for the CLI: drawn on a terminal only, never into a log file or a pipe."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tqdm import tqdm


def progress_bar(*, disable: bool = False, **options: Any) -> tqdm:
    """A tqdm bar on stderr, silent unless stderr is a terminal (a redirected stderr would
    otherwise fill with carriage-return frames). tqdm is imported here, not at start-up."""
    from tqdm import tqdm

    return tqdm(file=sys.stderr, disable=disable or not sys.stderr.isatty(), **options)
