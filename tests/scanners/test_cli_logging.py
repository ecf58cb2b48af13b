"""An internal error in a CLI batch shows its id on the terminal and its traceback in the log
file, so a batch's verdicts stay readable and the bug report has the whole story."""

from __future__ import annotations

import logging
from pathlib import Path

from scanners.cli.main import _configure_logging


def test_traceback_goes_to_the_log_file_and_the_terminal_gets_one_line(
    tmp_path: Path, monkeypatch, capsys, restore_root_logging
) -> None:
    monkeypatch.setenv("SOHOA_DATA_DIR", str(tmp_path))
    _configure_logging(verbose=False)
    try:
        raise IndexError("a parser bug")
    except IndexError:
        logging.getLogger("pipeline.usecases.ingest").exception("internal error ab12cd on tiny.tif")

    terminal = capsys.readouterr().err
    log_file = tmp_path / "logs" / "sohoa.log"
    assert "internal error ab12cd on tiny.tif" in terminal
    assert f"(traceback in {log_file})" in terminal
    assert "Traceback" not in terminal
    written = log_file.read_text()
    assert "internal error ab12cd" in written and "Traceback" in written
    assert "IndexError: a parser bug" in written


def test_a_command_that_logs_nothing_leaves_no_log_folder(
    tmp_path: Path, monkeypatch, restore_root_logging
) -> None:
    """`sohoa demo --fresh` refuses a data folder it did not make: logging must not make one."""
    data = tmp_path / "fresh"
    monkeypatch.setenv("SOHOA_DATA_DIR", str(data))
    _configure_logging(verbose=False)
    logging.getLogger("pipeline").info("below the level: not written")
    assert not data.exists()
