"""The web edge's settings are `pipeline.settings.WebSettings`, the `web` section of `Settings`.

This name stays only until `tests/web/test_sessions.py` (being changed by another piece of work)
imports `WebSettings` itself; nothing else uses it.
"""

from __future__ import annotations

from pipeline.settings import WebSettings as WebConfig

__all__ = ["WebConfig"]
