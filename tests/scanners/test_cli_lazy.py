"""`sohoa` loads a command's module only when that command is used, and still lists them all."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from scanners.cli import COMMANDS, main

HEAVY = ("cv2", "numpy", "open3d", "pycolmap", "tantivy", "fastapi", "pipeline.bootstrap")


def _short(text: str, limit: int) -> str:
    return click.Command("c", help=text).get_short_help_str(limit)


def _modules_after(*args: str) -> list[str]:
    """The modules a fresh `sohoa ARGS` has imported by the time it exits."""
    code = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))\n"
        "from scanners.cli import main\n"
        f"main({list(args)!r})\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_help_lists_every_command_with_its_one_line_help():
    shown = CliRunner().invoke(main, ["--help"], terminal_width=200).output
    for name, (_, short) in COMMANDS.items():
        line = next((s for s in shown.splitlines() if s.split()[:1] == [name]), None)
        assert line is not None, name
        assert _short(short, 150).rstrip(".")[:40] in line, name


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_is_reachable_and_its_registry_help_is_its_own(name):
    result = CliRunner().invoke(main, [name, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    command = main.get_command(None, name)  # type: ignore[arg-type]
    assert command is not None
    assert _short(COMMANDS[name][1], 500) == command.get_short_help_str(500)


def test_help_and_version_import_no_command_module_nor_heavy_library():
    for args in (["--help"], ["--version"]):
        loaded = _modules_after(*args)
        assert not [m for m in loaded if m.startswith(HEAVY)], args
        assert [m for m in loaded if m.startswith("scanners.cli.")] == ["scanners.cli.main"]


def test_a_light_commands_help_leaves_the_3d_and_image_libraries_alone():
    loaded = _modules_after("status", "--help")
    assert "scanners.cli.records" in loaded
    assert not [
        m for m in loaded if m.startswith(("cv2", "open3d", "pycolmap", "scanners.cli.models"))
    ]


def test_every_command_a_module_defines_is_in_the_registry():
    """A command decorated in a module but missing from COMMANDS would be neither listed nor
    reachable until something else imported its module."""
    import importlib
    import pkgutil

    import scanners.cli

    for info in pkgutil.iter_modules(scanners.cli.__path__):
        if info.name != "__main__":
            importlib.import_module(f"scanners.cli.{info.name}")
    assert set(main.commands) <= set(COMMANDS)


def _modules_of_run(tmp_path, *args: str) -> list[str]:
    """As `_modules_after`, for a command that works on embedded defaults in `tmp_path`."""
    code = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))\n"
        "from scanners.cli import main\n"
        f"main({list(args)!r})\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    env["SOHOA_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stderr.strip().splitlines()[-1])


NOT_FOR_STATUS = ("cv2", "numpy", "dramatiq", "prometheus_client", "fastapi")


def test_status_reads_the_store_without_image_job_or_broker_libraries(tmp_path):
    loaded = _modules_of_run(tmp_path, "status")
    assert "models.application" in loaded  # it did read the store
    assert not [m for m in loaded if m.startswith(NOT_FOR_STATUS)]


def test_ingest_without_wait_loads_neither_image_libraries_nor_the_broker(tmp_path):
    from PIL import Image

    page = tmp_path / "trang.png"
    Image.new("L", (200, 60), 255).save(page, dpi=(300, 300))
    loaded = _modules_of_run(tmp_path, "ingest", str(page))
    assert "pipeline.usecases.ingest" in loaded
    assert not [m for m in loaded if m.startswith(("cv2", "numpy", "dramatiq", "tantivy"))]


def test_importing_the_cli_and_asking_for_help_load_nothing_of_the_pipeline():
    """Settings and logging are set up when a command runs; `--help` is answered before."""
    code = "import json, sys, scanners.cli; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    imported = json.loads(done.stdout)
    assert not [m for m in imported if m.startswith(("pipeline", "numpy", "cv2", "tantivy"))]
    for args in (["--help"], ["--version"]):
        assert not [m for m in _modules_after(*args) if m.startswith("pipeline")], args
