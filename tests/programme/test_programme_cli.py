"""``buurtagenda import`` and ``buurtagenda export`` on the command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from buurtagenda.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "programma.toml"


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("BUURTAGENDA_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)  # no config.toml here
    return url


def programme_file(tmp_path: Path) -> Path:
    """Two sessions a month and two months from today (the command line runs on today's clock)."""
    soon = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%d")
    later = (datetime.now(UTC) + timedelta(days=60)).strftime("%Y-%m-%d")
    path = tmp_path / "programma.toml"
    path.write_text(
        f"""
[[bijeenkomst]]
uid = "masterclass-a"
soort = "masterclass"
titel = "Omgevingswet: wat betekent dit voor jouw buurt?"
begin = {soon}T19:30:00
duur = 120

[[bijeenkomst]]
uid = "dialoog-b"
soort = "dialoog"
titel = "Buurtnetwerken in dialoog met raads- en burgerleden"
begin = {later}T19:30:00
einde = {later}T21:30:00
plaatsen = 60
""",
        encoding="utf-8",
    )
    return path


def test_dry_run_import_again_and_export(database_url, tmp_path, capsys):
    source = programme_file(tmp_path)
    assert main(["import", str(source), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "new (2):" in out and "dry run: nothing changed" in out
    assert main(["export"]) == 0
    assert "[[bijeenkomst]]" not in capsys.readouterr().out  # nothing was imported

    assert main(["import", str(source)]) == 0
    assert "imported: 2 new, 0 changed, 0 cancelled" in capsys.readouterr().out
    assert main(["import", str(source)]) == 0
    assert "nothing to change" in capsys.readouterr().out
    exported = tmp_path / "programma-export.toml"
    assert main(["export", str(exported)]) == 0
    capsys.readouterr()
    assert exported.read_text(encoding="utf-8").count("[[bijeenkomst]]") == 2
    assert main(["import", str(exported)]) == 0
    assert "nothing to change" in capsys.readouterr().out


def test_bad_input_and_unknown_organiser(database_url, tmp_path, capsys):
    broken = tmp_path / "kapot.toml"
    broken.write_text('[[bijeenkomst]]\nuid = "x"\nzaal = 3\n', encoding="utf-8")
    assert main(["import", str(broken)]) == 1
    assert "Bijeenkomst 1 (regel 1): onbekend veld „zaal”." in capsys.readouterr().err
    assert main(["import", str(EXAMPLE), "--as", "424242"]) == 1
    assert "no member with Telegram id 424242" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "bestaat-niet.toml")]) == 1
