"""`sohoa worker`, `follow` and `serve`: the long-running processes."""

from __future__ import annotations

import signal
import threading

import click

from pipeline.bootstrap import Services
from scanners.cli.main import main, services


@main.command()
@click.option(
    "--queue", "queues", multiple=True, help="Only these queues (default, ocr, reconstruction)."
)
def worker(queues: tuple[str, ...]) -> None:
    """Run worker threads for the broker in SOHOA_BROKER_URL."""
    from workers.runtime import Runtime

    svc = services()
    embedded = svc.settings.broker_url.startswith("memory")
    if embedded:
        click.echo("memory:// broker is in-process: running the dispatcher here too", err=True)
    _serve_metrics(svc, svc.settings.worker_metrics_port)
    _run_until_stopped(Runtime(svc, workers=True, follow=embedded, queues=queues or None))


@main.command()
def follow() -> None:
    """Run the followers (dispatcher) over the notification log."""
    from workers.runtime import Runtime

    svc = services()
    embedded = svc.settings.broker_url.startswith("memory")
    _serve_metrics(svc, svc.settings.follow_metrics_port)
    _run_until_stopped(Runtime(svc, workers=embedded, follow=True))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Also run followers and workers (default on memory://).",
)
def serve(host: str, port: int, everything: bool) -> None:
    """The web app; on embedded defaults also the followers and workers, in one process."""
    import uvicorn

    from web.app import create_app

    svc = services()
    app = create_app(svc, svc.settings.web)  # SOHOA_WEB_* settings (pipeline/settings.py)
    runtime = None
    if everything or svc.settings.broker_url.startswith("memory"):
        from workers.runtime import Runtime

        runtime = Runtime(svc, workers=True, follow=True).start()
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        if runtime:
            runtime.stop()


def _serve_metrics(svc: Services, port: int) -> None:
    """`/metrics` on SOHOA_METRICS_HOST:port (SOHOA_WORKER_/FOLLOW_METRICS_PORT; 0: none)."""
    from pipeline.observability.metrics import serve_metrics

    serve_metrics(port, svc.settings.metrics_host)


def _embedded_runtime(svc: Services):
    if not svc.settings.broker_url.startswith("memory"):
        return None
    from workers.runtime import Runtime

    return Runtime(svc, workers=True, follow=True).start()


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _run_until_stopped(runtime) -> None:
    stop = _stop_on_signals()
    runtime.start()
    try:
        while not stop.wait(1.0):
            pass
    finally:
        runtime.stop()
