# ruff: noqa: E501  (the registry reads best as one line per command)
"""The `sohoa` command line: a thin edge over pipeline use cases.

`COMMANDS` is the registry: each command's `module:attribute` and its one-line help (the first
sentence of its docstring, which a test keeps in step). A command's module is imported only
when the command runs or shows its help (`scanners.cli.main.LazyGroup`). A new command: one
line here.
"""

from scanners.cli.main import main

COMMANDS: dict[str, tuple[str, str]] = {
    "audit": ("scanners.cli.audit:audit", "Who read personal data, and which sign-ins were refused."),
    "demo": ("scanners.cli.ingest:demo", "Ingest bundled and generated samples on embedded defaults and show what happened."),
    "export": ("scanners.cli.exporting:export", "Export records for other systems."),
    "fields": ("scanners.cli.documents:fields", "A land certificate's fields: value, confidence and status (read, needs review and why, accepted or corrected by whom); `--set` records corrections that win over the machine's."),
    "follow": ("scanners.cli.processes:follow", "Run the followers (dispatcher) over the notification log."),
    "health": ("scanners.cli.health:health", "Exit 0 when the heartbeat in SOHOA_HEARTBEAT_FILE is fresh, 1 when stale or absent."),
    "history": ("scanners.cli.records:history", "Every event of a capture or record, oldest first."),
    "import": ("scanners.cli.importing:import_", "Register parcels or heritage sites from JSON Lines, CSV or GeoJSON."),
    "ingest": ("scanners.cli.ingest:ingest", "Ingest files, folders and ZIPs as captures."),
    "lineage": ("scanners.cli.parcels:lineage", "Record a split (tách thửa), merge (hợp thửa) or renumbering of parcels."),
    "model": ("scanners.cli.models:model", "A 3D capture's latest model: metrics, progress while it runs, the GLB with --out."),
    "ocr": ("scanners.cli.documents:ocr", "Read a document's pages again (a new version beside the old), or show its text runs."),
    "parcel": ("scanners.cli.parcels:parcel", "A land parcel by the names its papers carry, before or after the 2025 reorganisation, or by its certificate's serial or registry number; with its lineage and retirement."),
    "reconstruct": ("scanners.cli.models:reconstruct", "A new 3D reconstruction run for a model, scan set or photo set."),
    "reindex": ("scanners.cli.search:reindex", "Build a new search index from the log and switch over when it has caught up."),
    "retry": ("scanners.cli.records:retry", "Run a capture's failed stages again (the failures stay in its history)."),
    "review": ("scanners.cli.review:review", "Land certificates whose fields a person should look at, weakest first."),
    "search": ("scanners.cli.search:search", "Search records in any spelling (with or without diacritics), by place and by number."),
    "serve": ("scanners.cli.processes:serve", "The web app; on embedded defaults also the followers and workers, in one process."),
    "show": ("scanners.cli.records:show", "A capture's or record's current state, or its state as of a past time."),
    "stats": ("scanners.cli.stats:stats", "Captures and pages by administrative unit, kind and month; published heritage sites by rank."),
    "status": ("scanners.cli.records:status", "Captures by state, queue depth and follower lag."),
    "text": ("scanners.cli.documents:text", "A document capture's full text (pages separated by form feeds)."),
    "url": ("scanners.cli.url:url", "A download link for a capture's original (presigned on S3, signed by the web app on local storage)."),
    "user": ("scanners.cli.users:user", "Staff accounts of the web app (archivists and land officers)."),
    "verify": ("scanners.cli.records:verify", "Fixity: re-hash every stored blob against its recorded sha256."),
    "watch": ("scanners.cli.ingest:watch", "Hot folder: ingest stable files, move them to done/ or rejected/."),
    "worker": ("scanners.cli.processes:worker", "Run worker threads for the broker in SOHOA_BROKER_URL."),
}  # fmt: skip
main.lazy.update(COMMANDS)

__all__ = ["COMMANDS", "main"]
