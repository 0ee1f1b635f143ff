"""Configuration: built-in defaults, then a TOML file, then environment overrides.

Loaded once at start and validated as a whole: a wrong type, an unknown key or an impossible value
stops the start with one message that names the key (``ConfigError``). Every key is documented in
``config.example.toml``; ``tests/test_config.py`` checks that the example and this schema agree.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from sqlalchemy.engine import make_url

ENV_PREFIX = "BUURTAGENDA_"
DEFAULT_CONFIG_PATH = Path("config.toml")
TELEGRAM_API = "https://api.telegram.org"

_DURATION = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")
# Telegram's rule for setWebhook's secret_token: 1-256 of these characters.
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key and says why."""


def parse_duration(text: str) -> timedelta:
    """Parse the short durations people write in config files: ``7d``, ``24h``, ``90m``."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like '7d', '24h' or '30m'")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class TelegramConfig(_Section):
    token: str = ""
    api_base_url: str = TELEGRAM_API
    # Empty: the bot long-polls. Otherwise the public URL Telegram posts updates to; every
    # instance serves POST on its path (bot/updates.py).
    webhook_url: str = ""
    # Required with webhook_url (validated after it: the order of the fields matters).
    webhook_secret: str = Field(default="", validate_default=True)

    @field_validator("api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be a URL like 'https://agenda.example.nl/telegram/updates'")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or fragment (the path is served)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: str, info: ValidationInfo) -> str:
        if not value:
            if info.data.get("webhook_url"):
                raise ValueError(
                    "required with telegram.webhook_url (1-256 characters: A-Z, a-z, 0-9, _ "
                    "and -; e.g. from: openssl rand -hex 32)"
                )
            return value
        if not _WEBHOOK_SECRET.match(value):
            # Never echo the value: it is a secret, and this message is logged.
            raise ValueError("must be 1-256 characters, each one of A-Z, a-z, 0-9, _ and -")
        return value

    @property
    def webhook_path(self) -> str:
        """The path of ``webhook_url`` that this instance serves ("/" when it has none)."""
        return urlsplit(self.webhook_url).path or "/"


class DatabaseConfig(_Section):
    url: str = "sqlite+aiosqlite:///buurtagenda.db"

    @field_validator("url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must use an async driver: sqlite+aiosqlite:///FILE or postgresql+asyncpg://..."
            )
        return value

    @property
    def passwords(self) -> tuple[str, ...]:
        """The password as sent to the server, and as written in the URL (percent-encoded)."""
        written = urlsplit(self.url).password or ""
        return (make_url(self.url).password or "", written)


class HttpConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8080"

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class RemindersConfig(_Section):
    offsets: tuple[str, ...] = ("7d", "1d")
    quiet_start: str = "21:30"
    quiet_end: str = "08:00"

    @field_validator("offsets", mode="before")
    @classmethod
    def _list_is_tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @field_validator("offsets")
    @classmethod
    def _valid_offsets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            if parse_duration(item) <= timedelta(0):
                raise ValueError(f"{item!r} must be more than zero")
        return value

    @field_validator("quiet_start", "quiet_end")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        try:
            time.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a time like '21:30'") from None
        return value

    @property
    def offset_durations(self) -> tuple[timedelta, ...]:
        return tuple(sorted((parse_duration(o) for o in self.offsets), reverse=True))

    @property
    def quiet_hours(self) -> tuple[time, time]:
        return time.fromisoformat(self.quiet_start), time.fromisoformat(self.quiet_end)


class RegistrationConfig(_Section):
    max_party_size: int = Field(default=2, ge=1, le=10)
    offer_window: str = "24h"
    last_call: str = "3h"

    @field_validator("offer_window", "last_call")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value


class DeliveryConfig(_Section):
    # Messages per second the service sends on its own; Telegram allows about 30 in all, and
    # replies to people who talk to the bot need room too.
    rate_per_s: float = Field(default=25.0, gt=0, le=30)
    # Network errors and 5xx are retried with exponential backoff this many times in all.
    max_attempts: int = Field(default=8, ge=1, le=20)


class ExportConfig(_Section):
    # Empty: no export. Otherwise a folder that receives the public feeds and the agenda page
    # after every change, for any static web host.
    directory: str = ""


class LoggingConfig(_Section):
    # "text": one readable line per entry; "json": one JSON object per line for log collectors.
    format: Literal["text", "json"] = "text"


class Config(_Section):
    timezone: str = "Europe/Amsterdam"
    default_language: Literal["nl", "en"] = "nl"
    admins: tuple[int, ...] = ()
    telegram: TelegramConfig = TelegramConfig()
    database: DatabaseConfig = DatabaseConfig()
    http: HttpConfig = HttpConfig()
    reminders: RemindersConfig = RemindersConfig()
    registration: RegistrationConfig = RegistrationConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    export: ExportConfig = ExportConfig()
    logging: LoggingConfig = LoggingConfig()

    @field_validator("admins", mode="before")
    @classmethod
    def _list_is_tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone like 'Europe/Amsterdam'"
            ) from None
        return value

    @field_validator("admins")
    @classmethod
    def _positive_ids(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(admin <= 0 for admin in value):
            raise ValueError("Telegram user ids are positive numbers")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def secrets(self) -> tuple[str, ...]:
        """Every secret in this configuration: no log line, exception text or page may show
        one (``buurtagenda.redaction``). A new secret key (a webhook secret) is added here."""
        token_secret = self.telegram.token.partition(":")[2]  # the part after the bot's id
        candidates = (
            self.telegram.token,
            token_secret,
            self.telegram.webhook_secret,
            *self.database.passwords,
        )
        return tuple(secret for secret in candidates if secret)


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Defaults, then ``path`` (or ``./config.toml`` when it exists), then ``BUURTAGENDA_*``."""
    raw: dict[str, Any] = {}
    source = "built-in defaults"
    if path is None and DEFAULT_CONFIG_PATH.exists():
        path = DEFAULT_CONFIG_PATH
    if path is not None:
        source = str(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such file") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: not valid TOML: {error}") from None
    _apply_environment(raw, os.environ if environ is None else environ)
    try:
        return Config.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(_describe(error, source)) from None


def _apply_environment(raw: dict[str, Any], environ: Mapping[str, str]) -> None:
    """``BUURTAGENDA_HTTP_PORT=9000`` sets ``http.port``; lists are comma-separated."""
    for key, (section, field) in _environment_keys().items():
        if key not in environ:
            continue
        value: Any = environ[key]
        target = raw if section is None else raw.setdefault(section, {})
        annotation = _field_annotation(section, field)
        if "tuple" in annotation:
            items = [item.strip() for item in str(value).split(",") if item.strip()]
            value = [
                int(i) if "int" in annotation and i.lstrip("-").isdigit() else i for i in items
            ]
        elif "int" in annotation and str(value).lstrip("-").isdigit():
            value = int(value)
        target[field] = value


def _environment_keys() -> dict[str, tuple[str | None, str]]:
    keys: dict[str, tuple[str | None, str]] = {}
    for name, info in Config.model_fields.items():
        nested = info.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel):
            for field in nested.model_fields:
                keys[f"{ENV_PREFIX}{name}_{field}".upper()] = (name, field)
        else:
            keys[f"{ENV_PREFIX}{name}".upper()] = (None, name)
    return keys


def _field_annotation(section: str | None, field: str) -> str:
    model: type[BaseModel] = Config
    if section is not None:
        nested = Config.model_fields[section].annotation
        assert isinstance(nested, type) and issubclass(nested, BaseModel)
        model = nested
    return str(model.model_fields[field].annotation)


def _describe(error: ValidationError, source: str) -> str:
    problem = error.errors()[0]
    key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
    reason = problem["msg"].removeprefix("Value error, ")
    if problem["type"] == "extra_forbidden":
        reason = "unknown key (see config.example.toml for the keys there are)"
    return f"configuration error in {source}: {key}: {reason}"
