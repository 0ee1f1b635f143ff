"""This running process among the service's instances: a name for what it holds (outbox leases)."""

from __future__ import annotations

import os
import secrets
import socket

_names: dict[int, str] = {}


def instance_id() -> str:
    """``host:pid:random``, unique among the instances sharing a database (also across a pid
    reused after a restart); a forked child gets its own."""
    pid = os.getpid()
    name = _names.get(pid)
    if name is None:
        name = _names[pid] = f"{socket.gethostname()[:80]}:{pid}:{secrets.token_hex(4)}"
    return name
