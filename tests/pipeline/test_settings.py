"""Settings from the environment."""

from __future__ import annotations

import pytest

from pipeline.settings import Settings, eventstore_env


def test_defaults_live_under_the_data_dir_even_when_it_is_relative(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    s = Settings.from_env({"SOHOA_DATA_DIR": "var/demo"})
    assert s.data_dir == tmp_path / "var" / "demo"
    assert (
        eventstore_env(s.eventstore_url)["SQLITE_DBNAME"] == f"{tmp_path}/var/demo/events.sqlite3"
    )
    assert s.storage_url == f"file://{tmp_path}/var/demo/blobs"
    assert s.broker_url == "memory://"


def test_numbers_are_parsed_and_bad_ones_named():
    s = Settings.from_env({"SOHOA_MAX_PAGES": "10", "SOHOA_WATCH_SETTLE_S": "0.5"})
    assert s.max_pages == 10 and s.limits.max_pages == 10 and s.watch_settle_s == 0.5
    with pytest.raises(ValueError, match="SOHOA_MAX_PAGES"):
        Settings.from_env({"SOHOA_MAX_PAGES": "many"})


def test_postgres_url_and_redacted_display():
    env = eventstore_env("postgresql://sohoa:s%40cret@db:5433/records?schema=t1")
    assert env["POSTGRES_HOST"] == "db" and env["POSTGRES_PORT"] == "5433"
    assert env["POSTGRES_PASSWORD"] == "s@cret" and env["POSTGRES_SCHEMA"] == "t1"
    shown = Settings.from_env({"SOHOA_EVENTSTORE_URL": "postgresql://u:pw@h/db"}).redacted()
    assert "pw" not in shown["eventstore_url"]
    with pytest.raises(ValueError, match="SOHOA_EVENTSTORE_URL"):
        eventstore_env("mysql://x")
