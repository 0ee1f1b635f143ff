"""deploy/: the systemd units (checked by systemd-analyze, and for their hardening), the Caddy
configuration (checked by Caddy itself), and the example configuration and secrets file (the
keys the service knows)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from buurtagenda.cli import _parser
from buurtagenda.config import _environment_keys, load_config

DEPLOY = Path(__file__).parent.parent / "deploy"
UNITS = ("buurtagenda.service", "buurtagenda@.service")
INSTALLED_BINARY = "/opt/buurtagenda/current/.venv/bin/buurtagenda"


def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """Sections of a unit file, each key with all its values (a key may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


@pytest.mark.parametrize("name", UNITS)
def test_the_unit_is_hardened_and_restarts_on_failure(name: str) -> None:
    service = unit(name)["Service"]
    expected = {
        "User": "buurtagenda",
        "Group": "buurtagenda",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "NoNewPrivileges": "yes",
        "Restart": "on-failure",
        "EnvironmentFile": "/etc/buurtagenda/secrets.env",
        "ReadWritePaths": "/var/lib/buurtagenda",
        "CapabilityBoundingSet": "",
    }
    assert {key: service.get(key, [None])[-1] for key in expected} == expected
    # Longer than the service's own stop (20 s for running jobs), so systemd never kills it
    # in the middle of a clean stop.
    assert int(service["TimeoutStopSec"][-1]) > 20
    assert service["RestartPreventExitStatus"] == ["2"]  # a configuration error


@pytest.mark.parametrize("name", UNITS)
def test_the_unit_starts_the_service_with_its_configuration(name: str) -> None:
    [command] = unit(name)["Service"]["ExecStart"]
    binary, *arguments = shlex.split(command)
    assert binary == INSTALLED_BINARY
    parsed = _parser().parse_args(arguments)  # our own command line accepts it
    assert parsed.command == "run" and parsed.config == Path("/etc/buurtagenda/config.toml")


def test_the_template_gives_each_instance_its_port() -> None:
    service = unit("buurtagenda@.service")["Service"]
    assert service["Environment"] == ["BUURTAGENDA_HTTP_PORT=%i"]
    assert "%i" in unit("buurtagenda@.service")["Unit"]["Description"][0]


@pytest.mark.parametrize("name", UNITS)
def test_systemd_accepts_the_unit(name: str, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed (Debian's systemd package)")
    # verify also checks that ExecStart's program exists: point it at the one installed here.
    here = Path(sys.executable).parent / "buurtagenda"
    text = (DEPLOY / name).read_text(encoding="utf-8").replace(INSTALLED_BINARY, str(here))
    (tmp_path / name).write_text(text, encoding="utf-8")
    target = name.replace("@.", "@8081.")
    result = subprocess.run(
        [analyze, "verify", target], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout + result.stderr == ""  # not even a warning


def caddyfile() -> str:
    return (DEPLOY / "Caddyfile").read_text(encoding="utf-8")


def test_caddy_accepts_the_caddyfile(tmp_path: Path) -> None:
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy not installed (Debian's caddy package)")
    result = subprocess.run(
        [caddy, "validate", "--adapter", "caddyfile", "--config", str(DEPLOY / "Caddyfile")],
        capture_output=True,
        text=True,
        check=False,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},  # its storage, not ours
    )
    assert result.returncode == 0, result.stderr
    assert "Valid configuration" in result.stdout + result.stderr
    formatted = subprocess.run(
        [caddy, "fmt", str(DEPLOY / "Caddyfile")], capture_output=True, text=True, check=True
    )
    assert formatted.stdout == caddyfile()  # as `caddy fmt` writes it


def test_the_caddyfile_balances_two_instances_with_health_checks() -> None:
    text = caddyfile()
    lines = [line.strip() for line in text.splitlines() if not line.strip().startswith("#")]
    assert text.count("{") == text.count("}")
    assert "reverse_proxy 127.0.0.1:8081 127.0.0.1:8082 {" in lines
    assert "health_uri /healthz" in lines
    assert "lb_try_duration 10s" in lines
    assert "handle /telegram/updates {" in lines  # the webhook
    assert "@private path /metrics /sandbox /sandbox/* /_emulator/*" in lines  # never public
    assert "agenda.example.nl {" in lines  # a domain name: Caddy gets its certificate itself


def test_the_example_configuration_and_secrets_are_keys_the_service_knows() -> None:
    config = load_config(DEPLOY / "config.toml", environ={})
    assert config.http.host == "127.0.0.1"
    assert config.http.public_url.startswith("https://")
    known = set(_environment_keys())
    lines = (DEPLOY / "secrets.env.example").read_text(encoding="utf-8").splitlines()
    assigned = [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]
    assert assigned and set(assigned) <= known
    secrets = load_config(
        environ=dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    ).secrets()
    assert "replace-me" in secrets  # the database password is one of the secrets redacted
