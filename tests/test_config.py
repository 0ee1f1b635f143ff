"""Configuration: defaults, the file, the environment, and one clear message per mistake."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from buurtagenda.config import Config, ConfigError, load_config, parse_duration

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={})
    assert config.database.url == "sqlite+aiosqlite:///buurtagenda.db"
    assert config.timezone == "Europe/Amsterdam"
    assert config.default_language == "nl"
    assert config.telegram.api_base_url == "https://api.telegram.org"
    assert config.http.port == 8080
    assert [d.days for d in config.reminders.offset_durations] == [7, 1]


def test_example_file_is_valid_and_equals_the_defaults():
    """The documented example and the built-in defaults must not drift apart."""
    assert load_config(ROOT / "config.example.toml", environ={}) == Config()


def test_example_file_documents_every_key():
    example = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    for name, info in Config.model_fields.items():
        assert name in example, name
        nested = info.annotation
        if isinstance(nested, type) and hasattr(nested, "model_fields"):
            assert set(nested.model_fields) == set(example[name]), name


def test_reads_config_toml_from_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "[http]\nport = 9000\n")
    assert load_config(environ={}).http.port == 9000


def test_environment_overrides_the_file(tmp_path):
    path = write(tmp_path, '[telegram]\ntoken = "from-file"\n')
    config = load_config(
        path,
        environ={
            "BUURTAGENDA_TELEGRAM_TOKEN": "123:secret",
            "BUURTAGENDA_DATABASE_URL": "postgresql+asyncpg://u@db/buurtagenda",
            "BUURTAGENDA_HTTP_PORT": "9090",
            "BUURTAGENDA_ADMINS": "11, 22",
            "BUURTAGENDA_REMINDERS_OFFSETS": "1d,2h",
        },
    )
    assert config.telegram.token == "123:secret"
    assert config.database.url.startswith("postgresql+asyncpg://")
    assert config.http.port == 9090
    assert config.admins == (11, 22)
    assert config.reminders.offsets == ("1d", "2h")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[http]\nport = 'eighty'\n", "http.port"),
        ("[http]\nport = 70000\n", "http.port"),
        ("[http]\nprot = 80\n", "http.prot"),
        ("colour = 'blue'\n", "colour"),
        ("timezone = 'Europe/Maastricht'\n", "timezone"),
        ("default_language = 'fr'\n", "default_language"),
        ("[database]\nurl = 'sqlite:///x.db'\n", "database.url"),
        ("[reminders]\noffsets = ['7 days']\n", "reminders.offsets"),
        ("[reminders]\nquiet_start = '25:00'\n", "reminders.quiet_start"),
        ("[registration]\nmax_party_size = 0\n", "registration.max_party_size"),
        ("admins = [-5]\n", "admins"),
        ("[telegram]\napi_base_url = 'api.telegram.org'\n", "telegram.api_base_url"),
        ("[telegram]\nwebhook_url = 'agenda.example.nl/hook'\n", "telegram.webhook_url"),
        ("[telegram]\nwebhook_url = 'https://a.nl/hook?x=1'\n", "telegram.webhook_url"),
        ("[telegram]\nwebhook_url = 'https://a.nl/hook'\n", "telegram.webhook_secret"),
        ("[telegram]\nwebhook_secret = 'met spatie'\n", "telegram.webhook_secret"),
        ("[telegram]\nwebhook_secret = 'geheim!'\n", "telegram.webhook_secret"),
        (f"[telegram]\nwebhook_secret = '{'x' * 257}'\n", "telegram.webhook_secret"),
    ],
)
def test_mistakes_stop_the_start_naming_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, text), environ={})
    assert f": {key}: " in str(raised.value)
    assert "\n" not in str(raised.value)  # one clear message, not a traceback-like dump


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[http\n"), environ={})
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.toml", environ={})


def test_durations():
    assert parse_duration("7d").days == 7
    assert parse_duration("90m").seconds == 5400
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_the_webhook_secret_follows_telegrams_rule_and_comes_from_the_environment(tmp_path):
    path = write(
        tmp_path, "[telegram]\nwebhook_url = 'https://agenda.example.nl/telegram/updates'\n"
    )
    with pytest.raises(ConfigError) as missing:
        load_config(path, environ={})
    assert str(missing.value) == (
        f"configuration error in {path}: telegram.webhook_secret: required with "
        "telegram.webhook_url (1-256 characters: A-Z, a-z, 0-9, _ and -; e.g. from: openssl "
        "rand -hex 32)"
    )
    secret = "Ab_-9" + "z" * 251  # 256 characters, every kind allowed
    config = load_config(path, environ={"BUURTAGENDA_TELEGRAM_WEBHOOK_SECRET": secret})
    assert config.telegram.webhook_secret == secret
    assert config.telegram.webhook_path == "/telegram/updates"
    assert secret in config.secrets()  # redacted from every log line
    with pytest.raises(ConfigError) as wrong:
        load_config(path, environ={"BUURTAGENDA_TELEGRAM_WEBHOOK_SECRET": "bijna-goed!"})
    assert "bijna-goed" not in str(wrong.value)  # a secret, even a wrong one, is never shown
    assert ": telegram.webhook_secret: must be 1-256 characters" in str(wrong.value)
