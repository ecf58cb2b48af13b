"""`sohoa ingest --wait` on embedded defaults: the pipeline runs while the inputs are ingested."""

from __future__ import annotations

from pipeline.bootstrap import bootstrap
from pipeline.settings import Settings
from scanners.cli import ingest as cli_ingest
from tests.factories import samples
from workers.runtime import Runtime


def test_the_pipeline_is_running_before_the_first_input_is_ingested(tmp_path, monkeypatch):
    """Started first, the pipeline inspects the first captures (and its page pool loads) while
    the rest are still being ingested, rather than after the last one."""
    folder = tmp_path / "in"
    folder.mkdir()
    samples.make_png(folder / "a.png", 120, 80)
    samples.make_png(folder / "b.png", 90, 60)
    settings = Settings.from_env({"SOHOA_DATA_DIR": str(tmp_path / "data"), "SOHOA_AUTO_RUNS": ""})
    svc = bootstrap(settings)
    running: list[Runtime] = []
    started, stopped = Runtime.start, Runtime.stop

    def start(self: Runtime) -> Runtime:
        running.append(self)
        return started(self)

    def stop(self: Runtime) -> None:
        running.remove(self)
        stopped(self)

    seen_when_ingesting: list[int] = []
    ingest_paths = cli_ingest.ingest_paths

    def ingest_watched(*args, **kwargs):
        seen_when_ingesting.append(len(running))
        return ingest_paths(*args, **kwargs)

    monkeypatch.setattr(Runtime, "start", start)
    monkeypatch.setattr(Runtime, "stop", stop)
    monkeypatch.setattr(cli_ingest, "ingest_paths", ingest_watched)
    try:
        code = cli_ingest.run_ingest(svc, [folder], None, None, wait=True, as_json=True)
        assert code == 0
        assert seen_when_ingesting == [1]  # one runtime, already started
        assert running == []  # and stopped at the end
        states = [svc.store.capture(cid) for cid in svc.store.capture_ids()]
        assert len(states) == 2 and all(c.inspection.get("pages") == 1 for c in states)
    finally:
        svc.close()


def test_without_wait_nothing_runs(tmp_path, monkeypatch):
    folder = tmp_path / "in"
    folder.mkdir()
    samples.make_png(folder / "a.png", 120, 80)
    svc = bootstrap(Settings.from_env({"SOHOA_DATA_DIR": str(tmp_path / "data")}))
    started: list[Runtime] = []
    monkeypatch.setattr(Runtime, "start", lambda self: started.append(self) or self)
    try:
        assert cli_ingest.run_ingest(svc, [folder], None, None, wait=False, as_json=True) == 0
        assert started == []
    finally:
        svc.close()
