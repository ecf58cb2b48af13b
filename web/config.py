"""Settings of the web edge (read by the entrypoint, passed to `create_app`).

These are candidates for `pipeline.settings.Settings`; until they move there, `sohoa serve`
reads them with `WebConfig.from_env`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WebConfig:
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

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebConfig:
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for name, field in cls.__dataclass_fields__.items():
            raw = env.get("SOHOA_WEB_" + name.upper())
            if raw:
                kind = type(field.default)
                values[name] = raw.lower() in ("1", "true", "yes") if kind is bool else kind(raw)
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
