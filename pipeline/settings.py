"""Settings: environment variables with the SOHOA_ prefix, read only by entrypoints."""

from __future__ import annotations

import getpass
import os
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pipeline.media.limits import Limits

GiB = 1024**3
WEB_SECRETS = ("session_secret", "admin_password", "ops_token")


@dataclass(frozen=True)
class WebSettings:
    """The web edge's section of `Settings`: environment variables `SOHOA_WEB_<FIELD>`."""

    session_secret: str = ""
    """HMAC key of CSRF tokens and signed links; empty: a random key in `<data dir>/web-secret`."""
    session_idle_min: float = 30.0
    """A session unused this long ends (SOHOA_WEB_SESSION_IDLE_MIN)."""
    session_max_h: float = 12.0
    """A session ends this long after sign-in, used or not (SOHOA_WEB_SESSION_MAX_H)."""
    token_days: int = 90
    """Lifetime of API tokens issued from the staff page."""
    search_rate_per_min: float = 60.0
    """Public search requests per client address per minute (token bucket refill)."""
    search_burst: int = 20
    max_query_bytes: int = 8192
    """Longer query strings get 414."""
    admin_login: str = ""
    admin_password: str = ""
    """A first archivist created on start if this login does not exist yet."""
    login_free_attempts: int = 5
    """Failed sign-ins (per client address, per login) before each next one must wait."""
    login_delay_s: float = 1.0
    """The first wait; it doubles with every further failure, up to login_max_delay_s."""
    login_max_delay_s: float = 900.0
    lockout_after: int = 10
    """Failed sign-ins of one login in a row that lock it (an archivist can unlock it)."""
    lockout_min: float = 60.0
    """How long a lockout lasts if nobody lifts it."""
    secure_cookies: bool = False
    """Mark cookies Secure (set behind HTTPS)."""
    time_zone: str = "Asia/Ho_Chi_Minh"
    """Dates typed on the officer console are read in this zone."""
    ops_token: str = ""
    """Bearer token for `/metrics` and `/readyz`'s details; empty: both open to any caller."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebSettings:
        """An empty value means "unset"; booleans are 1/true/yes."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get("SOHOA_WEB_" + f.name.upper())
            if raw:
                kind = type(f.default)
                values[f.name] = raw.lower() in ("1", "true", "yes") if kind is bool else kind(raw)
        return cls(**values)  # type: ignore[arg-type]

    def secret(self, data_dir: Path) -> bytes:
        if self.session_secret:
            return self.session_secret.encode()
        path = data_dir / "web-secret"
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
        return path.read_text().strip().encode()

    def redacted(self) -> dict[str, str]:
        """The section for display, with the secrets masked."""
        shown = {f.name: str(getattr(self, f.name)) for f in fields(self)}
        for name in WEB_SECRETS:
            if shown[name]:
                shown[name] = "***"
        return shown


@dataclass(frozen=True)
class Settings:
    """Every setting, its environment variable, and its default (see README "Settings")."""

    data_dir: Path
    eventstore_url: str
    storage_url: str
    broker_url: str
    search_url: str
    operator: str
    station: str
    storage_public_url: str = ""
    """Where users' browsers reach the S3 server (http(s)://host[:port]): presigned URLs are
    signed for it; on local storage, the web app's address used by `sohoa url`."""
    max_file_bytes: int = 8 * GiB
    max_pixels: int = 600_000_000
    max_pages: int = 2_000
    max_points: int = 50_000_000
    max_zip_members: int = 10_000
    max_zip_ratio: int = 200
    worker_threads: int = 2
    ocr_processes: int = 0
    """Processes that run the CPU-bound part of pages' OCR for a worker (0: one per core)."""
    job_retries: int = 3
    stage_time_limit_s: int = 600
    thumbnail_px: int = 256
    watch_settle_s: float = 2.0
    redelivery_timeout_s: int = 60
    sweep_s: int = 300
    """A pending capture quiet this long gets its ready jobs enqueued again (lost messages)."""
    gazetteer_dir: str = ""
    auto_runs: str = "text,model"
    """What inspection requests by itself: "text" (documents), "model" (3D); "" for neither."""
    ocr_lang: str = "vie"
    ocr_dpi: int = 300
    ocr_timeout_s: int = 120
    collection_langs: str = ""
    """Per-collection OCR languages: "sac-phong=chi_tra,phap-thuoc=vie+fra"."""
    reconstruct_time_limit_s: int = 1800
    reconstruct_memory_mb: int = 6000
    split_area_tolerance: float = 0.02
    """A split or merge whose children's areas exceed the parents' by more than this fraction
    is recorded with a warning."""
    heartbeat_file: str = ""
    """`worker`/`follow` rewrite this file every few seconds while all their parts are alive;
    `sohoa health` checks its age (container healthchecks)."""
    log_format: str = "text"
    """`json`: one JSON object per log line (timestamp, level, logger, message, job context)."""
    metrics_host: str = "127.0.0.1"
    """Where `worker` and `follow` serve `/metrics` (Prometheus text format)."""
    worker_metrics_port: int = 9191
    """`sohoa worker`'s metrics port; 0 for none."""
    follow_metrics_port: int = 9192
    """`sohoa follow`'s metrics port; 0 for none."""
    ready_max_lag: int = 10_000
    """`/readyz` fails when a follower is this many events behind and has not moved for a
    minute."""
    stats_cache_s: float = 30.0
    """How long `/api/stats` answers from memory before reading the projection again."""
    targets_csv: str = ""
    """A CSV of certificate targets per ward (`unit_code,target`) for the dashboard."""
    map_tiles_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    """The maps' base layer, an XYZ tile URL template; empty: only the offline layer of
    province outlines that ships with sohoa (also shown whenever a tile fails to load)."""
    map_attribution: str = (
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
    )
    """The base layer's credit line (HTML, set by the operator), shown on every map."""
    web: WebSettings = field(default_factory=WebSettings)
    """The web edge's section (`SOHOA_WEB_*`)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = (
            Path(env.get("SOHOA_DATA_DIR") or Path.home() / ".local" / "share" / "sohoa")
            .expanduser()
            .absolute()
        )  # URLs below need an absolute path
        values: dict[str, object] = {
            "data_dir": data_dir,
            "eventstore_url": env.get("SOHOA_EVENTSTORE_URL")
            or f"sqlite://{data_dir}/events.sqlite3",
            "storage_url": env.get("SOHOA_STORAGE_URL") or f"file://{data_dir}/blobs",
            "broker_url": env.get("SOHOA_BROKER_URL") or "memory://",
            "search_url": env.get("SOHOA_SEARCH_URL") or f"tantivy://{data_dir}/index",
            "operator": env.get("SOHOA_OPERATOR") or _user(),
            "station": env.get("SOHOA_STATION") or socket.gethostname(),
            "web": WebSettings.from_env(env),
        }
        for f in fields(cls):
            name = "SOHOA_" + f.name.upper()
            raw = env.get(name)
            # an empty value means "unset", except for text settings where "" is a choice
            if f.name not in values and raw is not None and (raw or type(f.default) is str):
                values[f.name] = _parse(name, raw, type(f.default))
        return cls(**values)  # type: ignore[arg-type]

    @property
    def limits(self) -> Limits:
        return Limits(
            max_file_bytes=self.max_file_bytes,
            max_pixels=self.max_pixels,
            max_pages=self.max_pages,
            max_points=self.max_points,
            max_zip_members=self.max_zip_members,
            max_zip_ratio=self.max_zip_ratio,
        )

    def text_params(self, meta: Mapping[str, object]) -> dict[str, object]:
        """A text run's parameters for a capture: its own language, else its collection's,
        else the default."""
        by_collection = dict(
            pair.split("=", 1) for pair in self.collection_langs.split(",") if "=" in pair
        )
        lang = (
            ocr_language(str(meta["language"]))
            if meta.get("language")
            else by_collection.get(str(meta.get("collection", "")), self.ocr_lang)
        )
        return {"lang": lang, "dpi": self.ocr_dpi, "timeout_s": self.ocr_timeout_s, "correct": True}

    def eventstore_env(self) -> dict[str, str]:
        """The eventsourcing library's persistence settings for `eventstore_url`."""
        return eventstore_env(self.eventstore_url)

    def redacted(self) -> dict[str, str]:
        """Settings for display, with passwords in URLs masked."""
        shown = {f.name: _mask(str(getattr(self, f.name))) for f in fields(self) if f.name != "web"}
        shown.update({f"web_{k}": v for k, v in self.web.redacted().items()})
        return shown


LANGUAGE_CODES = {"vi": "vie", "en": "vie+eng", "fr": "vie+fra", "han": "chi_tra", "zh": "chi_tra"}
"""Sidecar `language` values (ISO 639-1, or "han" for Hán script) → Tesseract languages."""


def ocr_language(value: str) -> str:
    return LANGUAGE_CODES.get(value.lower().split("-")[0], value)


def eventstore_env(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        in_memory = path in (":memory:", "/:memory:")  # not any path with "memory" in it
        if not in_memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": "file::memory:?mode=memory&cache=shared" if in_memory else path,
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    if parts.scheme in ("postgresql", "postgres"):
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parts.path.lstrip("/") or "sohoa",
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_POOL_SIZE": "4",
            "POSTGRES_MAX_OVERFLOW": "4",
            "POSTGRES_PRE_PING": "y",
            **({"POSTGRES_SCHEMA": schema} if (schema := _query(parts.query, "schema")) else {}),
        }
    raise ValueError(f"SOHOA_EVENTSTORE_URL must be sqlite:///… or postgresql://…, got {url!r}")


def _query(query: str, name: str) -> str | None:
    from urllib.parse import parse_qs

    values = parse_qs(query).get(name)
    return values[0] if values else None


def _parse(name: str, raw: str, kind: type) -> object:
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a valid {kind.__name__}") from None


def _mask(value: str) -> str:
    parts = urlsplit(value)
    if parts.password:
        return value.replace(f":{parts.password}@", ":***@")
    return value


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
