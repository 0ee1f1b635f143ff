"""What a send costs when the budget is shared through PostgreSQL (``models/send_budget.py``).

Asks the shared budget for slots as fast as it answers (rates so high that nobody waits), for
replies and for bulk sends, from one and from two "instances" (two pools) at once, and compares
with an empty statement on the same kind of connection (the baseline). At Telegram's 30 sends
per second the budget must cost a small part of a second: the last line says how many sends
per second it could serve.

    BUURTAGENDA_BENCH_POSTGRES_URL=postgresql+asyncpg://... .venv/bin/python bench/send_budget.py
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models import migrations
from models.db import Database
from models.send_budget import Bucket, SharedSendBudget

CALLS = 2000
FAST = Bucket.of(1_000_000.0, 3)  # nobody ever waits: what is measured is the statement


async def per_call(budget: SharedSendBudget, kind: str, calls: int, offset: int = 0) -> float:
    started = time.perf_counter()
    for n in range(calls):
        chat = str(offset + n % 500)
        if kind == "reply":
            await budget.reply_slot(chat, FAST, FAST)
        elif kind == "bulk":
            await budget.bulk_slot(chat, FAST, FAST, FAST, 0.0)
        else:
            await budget._run("SELECT 1", fetch=True)
    return (time.perf_counter() - started) / calls


async def main() -> None:
    url = os.environ.get("BUURTAGENDA_BENCH_POSTGRES_URL") or os.environ.get(
        "BUURTAGENDA_TEST_POSTGRES_URL", ""
    )
    if not url:
        sys.exit("set BUURTAGENDA_BENCH_POSTGRES_URL (a PostgreSQL it may migrate)")
    database = Database(url)
    await migrations.upgrade(database)
    await database.dispose()
    one, two = SharedSendBudget(url), SharedSendBudget(url)
    await one.open()
    await two.open()
    try:
        await per_call(one, "reply", 200)  # warm up (prepared statements, pool)
        baseline = await per_call(one, "select", CALLS)
        reply = await per_call(one, "reply", CALLS)
        bulk = await per_call(one, "bulk", CALLS)
        started = time.perf_counter()
        await asyncio.gather(
            per_call(one, "reply", CALLS), per_call(two, "bulk", CALLS, offset=10_000)
        )
        together = (time.perf_counter() - started) / (2 * CALLS)
    finally:
        await one.close()
        await two.close()
    result = {
        "select_1_ms": round(baseline * 1000, 3),
        "reply_slot_ms": round(reply * 1000, 3),
        "bulk_slot_ms": round(bulk * 1000, 3),
        "two_instances_ms_per_send": round(together * 1000, 3),
        "sends_per_s_capacity": round(1 / together),
        "share_of_a_second_at_30_per_s": round(30 * max(reply, bulk), 4),
    }
    print(
        f"select 1: {result['select_1_ms']} ms; reply slot {result['reply_slot_ms']} ms; bulk "
        f"slot {result['bulk_slot_ms']} ms; two instances at once: "
        f"{result['two_instances_ms_per_send']} ms per send"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
