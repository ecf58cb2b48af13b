"""`sohoa follow` keeps the statistics tables: what arrives is counted within a moment."""

from __future__ import annotations

import time
from datetime import date

from pipeline.usecases.stats import DateRange, dashboard
from tests.helpers import make_services
from tests.pipeline.projections.test_stats import receive
from workers.runtime import Runtime


def test_the_follow_process_counts_new_captures(tmp_path):
    svc = make_services(tmp_path)
    try:
        with Runtime(svc, workers=False, follow=True) as rt:
            receive(svc, "one.png", collection="phap-thuoc")
            deadline = time.monotonic() + 10
            while rt.stats.lag() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert rt.stats.lag() == 0
        view = dashboard(svc, DateRange(date(2000, 1, 1), date(2100, 1, 1)))
        assert view["by_collection"] == [{"collection": "phap-thuoc", "captures": 1}]
    finally:
        svc.close()
