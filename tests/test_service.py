"""The service as people start it: `buurtagenda run` in its own process, answering /healthz."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from emulator.sandbox import CONTENT_SECURITY_POLICY
from models import migrations
from models.db import Database
from web.app import create_app

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "buurtagenda"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


async def test_run_starts_migrates_seeds_and_answers_over_http(tmp_path):
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        str(BIN / "buurtagenda"),
        "run",
        cwd=tmp_path,
        env={**os.environ, "BUURTAGENDA_HTTP_PORT": str(port)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with httpx.AsyncClient() as client:
            # A bound, not a goal: a loaded 2-core machine takes 15-20 s to import and start.
            for _ in range(1200):
                try:
                    response = await client.get(f"http://127.0.0.1:{port}/healthz")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            else:
                pytest.fail("the service did not answer /healthz within 60 s")
            assert response.status_code == 200
            assert response.json() == {
                "status": "ok",
                "role": "leader",  # on SQLite the one process always leads
                "database": "ok",
                "scheduler": "ok",
            }
            assert (tmp_path / "buurtagenda.db").exists()  # embedded default: SQLite file
            await check_http_edges(client, f"http://127.0.0.1:{port}")
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=15)
    assert process.returncode == 0, output.decode()
    assert b"reference data: 44 buurten, 28 networks, 9 themes added" in output


async def check_http_edges(client: httpx.AsyncClient, base: str) -> None:
    """The running service (here a sandbox: the emulator shares the HTTP server) over real HTTP:
    no server banner, a 405 with Allow for a wrong method on a known path (the emulator answers
    only what no route knows), a 404 for an id beyond the database's integers, the favicon, and
    the sandbox page keeping its own Content-Security-Policy."""
    page = await client.get(f"{base}/")
    assert page.status_code == 200 and "server" not in page.headers
    assert "content-security-policy" in page.headers
    wrong_method = await client.post(f"{base}/agenda.ics")
    assert wrong_method.status_code == 405
    assert set(wrong_method.headers["allow"].split(", ")) == {"GET", "HEAD"}
    assert (await client.get(f"{base}/event/9223372036854775808.ics")).status_code == 404
    favicon = await client.get(f"{base}/favicon.ico")
    assert favicon.status_code == 200 and favicon.headers["content-type"].startswith("image/")
    sandbox = await client.get(f"{base}/sandbox")
    assert sandbox.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "server" not in sandbox.headers
    bot_api = await client.post(f"{base}/bot123:wrong/getMe")
    assert bot_api.json()["ok"] is False  # still the emulator's, in the Bot API's words


async def test_healthz_says_what_is_unhealthy(tmp_path):
    threads_before = set(threading.enumerate())
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    app = create_app(database, scheduler_running=lambda: False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/healthz")
    await database.dispose()
    # aiosqlite stops the thread of a failed connection without waiting for it; let it finish
    # while this test's event loop still runs (it reports back to the loop, which pytest closes
    # after the test: a warning in whichever test comes next).
    for thread in set(threading.enumerate()) - threads_before:
        await asyncio.to_thread(thread.join, 5)
    assert response.status_code == 503
    assert response.json() == {
        "status": "unhealthy",
        "role": "leader",  # create_app's default: the service passes its own
        "database": "error: OperationalError",
        "scheduler": "stopped",
    }


def test_cli_seed_and_db_commands(tmp_path):
    env = {"BUURTAGENDA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    assert cli("db", "current", cwd=tmp_path, env=env).stdout.strip() == "(empty database)"
    upgraded = cli("db", "upgrade", cwd=tmp_path, env=env)
    assert upgraded.returncode == 0
    assert f"revision {migrations.head_revision()}" in upgraded.stdout
    first = cli("seed", cwd=tmp_path, env=env)
    second = cli("seed", cwd=tmp_path, env=env)
    assert first.returncode == second.returncode == 0
    assert "44 buurten" in first.stderr and "44 buurten" not in second.stderr  # idempotent
    demo = cli("seed", "--demo", cwd=tmp_path, env=env)
    again = cli("seed", "--demo", cwd=tmp_path, env=env)
    assert "demo programme: 8 events added" in demo.stdout
    assert "demo programme: 0 events added, 8 there" in again.stdout


def test_cli_stops_with_one_clear_message_on_bad_configuration(tmp_path):
    (tmp_path / "config.toml").write_text("[http]\nport = 'tachtig'\n")
    result = cli("run", cwd=tmp_path)
    assert result.returncode == 2
    message = "configuration error in config.toml: http.port: Input should be a valid integer"
    assert result.stderr.strip().splitlines() == [f"buurtagenda: {message}"]
