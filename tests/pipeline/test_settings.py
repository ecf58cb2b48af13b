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


def test_the_web_section_reads_sohoa_web_variables_with_the_same_defaults():
    s = Settings.from_env(
        {
            "SOHOA_WEB_SEARCH_BURST": "7",
            "SOHOA_WEB_SECURE_COOKIES": "true",
            "SOHOA_WEB_SESSION_IDLE_MIN": "",  # empty means unset
            "SOHOA_WEB_SESSION_SECRET": "k3y",
        }
    )
    assert s.web.search_burst == 7 and s.web.secure_cookies is True
    assert s.web.session_idle_min == 30.0 and s.web.login_max_delay_s == 900.0
    assert s.web.secret(s.data_dir) == b"k3y"


def test_the_web_secrets_are_masked_in_the_display():
    shown = Settings.from_env(
        {"SOHOA_WEB_SESSION_SECRET": "k3y", "SOHOA_WEB_ADMIN_PASSWORD": "pa55word"}
    ).redacted()
    assert shown["web_session_secret"] == "***" and shown["web_admin_password"] == "***"
    assert "k3y" not in str(shown) and "pa55word" not in str(shown)
