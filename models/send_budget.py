"""One send budget shared by every instance on PostgreSQL.

A bot token's limits hold for the token, not per process: two processes that each pace
themselves send twice as much. Here each budget is a GCRA bucket ("virtual scheduling", as
``bot/ratelimit.py`` keeps them in memory) stored as one row of ``send_budget``: ``tat``, the
theoretical arrival time in seconds on the database's clock (so the instances' own clocks need
not agree). One call of ``buurtagenda_send_slot`` (a PL/pgSQL function, made by migration 0008)
takes the slots of one send from every bucket that applies, atomically: one trip per send.

Scopes: ``total`` (everything the token sends), ``bulk`` (the outbox's own, lower rate),
``chat:<id>`` (one chat), and ``pause``, whose ``tat`` is the moment a 429's ``retry_after``
ends: every send of every instance waits for it.

- A *reply* reserves its slots at once (the chat's first; when the chat must wait, only the
  chat's, and it comes back for the overall slot after that wait, so a chat that must wait
  holds back no one else).
- A *bulk* send takes its slots only when all are free now and ``keep_free_s`` of the overall
  burst stays free for replies; otherwise it takes nothing and learns how long to wait.

The table is UNLOGGED: a budget is worth nothing after a crash of the database, and skipping the
write-ahead log makes each send cheaper. Rows of idle chats are deleted now and then.

Only PostgreSQL: on SQLite there is one process, and ``bot/ratelimit.py`` keeps the budget.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Float, String, Table

from models.base import Base
from models.pg import asyncpg_dsn

send_budget = Table(
    "send_budget",
    Base.metadata,
    Column("scope", String(80), primary_key=True),
    Column("tat", Float(precision=53), nullable=False),
)

# Made by migration 0008 (and again by later ones when it changes).
SEND_SLOT_FUNCTION = """
CREATE OR REPLACE FUNCTION buurtagenda_send_slot(
    p_chat text,              -- the chat's scope; NULL: no chat budget
    p_chat_interval float8, p_chat_tolerance float8,
    p_total_interval float8, p_total_tolerance float8,
    p_bulk_interval float8,   -- NULL: a reply, reserved at once
    p_bulk_tolerance float8,
    p_keep_free float8,       -- bulk: seconds of the overall burst left to replies
    OUT wait_s float8,        -- how long to wait: for the slot taken, or before asking again
    OUT taken boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_now float8 := extract(epoch FROM clock_timestamp());
    v_start float8;
    v_total float8;
    v_bulk float8;
    v_chat float8;
    v_at float8;
BEGIN
    -- Every send locks the overall row first: that orders all senders, so no deadlock.
    SELECT tat INTO v_total FROM send_budget WHERE scope = 'total' FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO send_budget VALUES ('total', v_now) ON CONFLICT (scope) DO NOTHING;
        SELECT tat INTO v_total FROM send_budget WHERE scope = 'total' FOR UPDATE;
    END IF;
    v_start := greatest(v_now, coalesce(
        (SELECT tat FROM send_budget WHERE scope = 'pause'), v_now));
    IF p_chat IS NOT NULL THEN
        SELECT tat INTO v_chat FROM send_budget WHERE scope = p_chat FOR UPDATE;
        IF NOT FOUND THEN
            v_chat := v_now;
            INSERT INTO send_budget VALUES (p_chat, v_now);
        END IF;
    END IF;
    IF p_bulk_interval IS NULL THEN
        IF p_chat IS NOT NULL THEN
            v_at := greatest(v_start, v_chat - p_chat_tolerance);
            UPDATE send_budget SET tat = greatest(v_chat, v_at) + p_chat_interval
                WHERE scope = p_chat;
            IF v_at > v_start THEN  -- the chat must wait: its turn is held, the rest later
                wait_s := v_at - v_now;
                taken := false;
                RETURN;
            END IF;
        END IF;
        v_at := greatest(v_start, v_total - p_total_tolerance);
        UPDATE send_budget SET tat = greatest(v_total, v_at) + p_total_interval
            WHERE scope = 'total';
        wait_s := v_at - v_now;
        taken := true;
        RETURN;
    END IF;
    SELECT tat INTO v_bulk FROM send_budget WHERE scope = 'bulk' FOR UPDATE;
    IF NOT FOUND THEN
        v_bulk := v_now;
        INSERT INTO send_budget VALUES ('bulk', v_now);
    END IF;
    v_at := greatest(
        v_start,
        v_bulk - p_bulk_tolerance,
        v_total - p_total_tolerance + least(p_keep_free, p_total_tolerance),
        coalesce(v_chat - p_chat_tolerance, v_now));
    IF v_at > v_now THEN
        wait_s := v_at - v_now;
        taken := false;
        RETURN;
    END IF;
    UPDATE send_budget SET tat = greatest(tat, v_now) + (CASE scope
            WHEN 'total' THEN p_total_interval
            WHEN 'bulk' THEN p_bulk_interval
            ELSE p_chat_interval END)
        WHERE scope IN ('total', 'bulk', p_chat);
    wait_s := 0;
    taken := true;
END
$$;
"""

_SLOT = "SELECT wait_s, taken FROM buurtagenda_send_slot($1, $2, $3, $4, $5, $6, $7, $8)"
_PAUSE = """
INSERT INTO send_budget VALUES ('pause', extract(epoch FROM clock_timestamp()) + $1)
ON CONFLICT (scope) DO UPDATE SET tat = greatest(send_budget.tat, excluded.tat)
"""
# Chats whose bucket is full again (idle for longer than their tolerance): forgetting them
# changes nothing. Rows of other scopes never match (they are not 'chat:...').
_PRUNE = """
DELETE FROM send_budget WHERE scope LIKE 'chat:%'
AND tat + $1 < extract(epoch FROM clock_timestamp())
"""
_PRUNE_EVERY = 2000  # sends, on average


@dataclass(frozen=True)
class Bucket:
    """A GCRA bucket's shape: a send every ``interval`` seconds, ``tolerance`` seconds early at
    most (a burst of ``tolerance / interval + 1``)."""

    interval: float
    tolerance: float

    @classmethod
    def of(cls, per_s: float, burst: int) -> Bucket:
        interval = 1.0 / per_s
        return cls(interval, max(0, burst - 1) * interval)


class BudgetUnavailable(Exception):
    """The database could not be asked (it is down, or the connection broke)."""


class SharedSendBudget:
    """The shared budget, through a small asyncpg pool of its own (no ORM, no pre-ping: a
    send costs one short statement)."""

    def __init__(self, url: str, *, pool_size: int = 4, timeout_s: float = 2.0) -> None:
        self.dsn = asyncpg_dsn(url)
        self.pool_size = pool_size
        self.timeout_s = timeout_s
        self._pool: Any = None
        self._opening = asyncio.Lock()
        self.calls = 0

    async def open(self) -> None:
        import asyncpg  # type: ignore[import-untyped]

        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self.dsn, min_size=1, max_size=self.pool_size, timeout=self.timeout_s
                )

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def reply_slot(
        self, chat: str | None, chat_bucket: Bucket, total: Bucket
    ) -> tuple[float, bool]:
        """Reserve a reply's slots: (seconds to wait, True) or, when the chat must wait first,
        (seconds, False): then ask again with ``chat=None`` after that wait."""
        return await self._slot(chat, chat_bucket, total, None, 0.0)

    async def bulk_slot(
        self, chat: str | None, chat_bucket: Bucket, total: Bucket, bulk: Bucket, keep_free_s: float
    ) -> float:
        """Take a bulk send's slots if all are free now (0.0); otherwise the seconds to wait
        before asking again (nothing taken)."""
        wait, _taken = await self._slot(chat, chat_bucket, total, bulk, keep_free_s)
        return max(0.0, wait)

    async def pause(self, seconds: float) -> None:
        """A 429: nobody sends for ``seconds`` (from now, on the database's clock)."""
        await self._run(_PAUSE, float(seconds))

    async def _slot(
        self,
        chat: str | None,
        chat_bucket: Bucket,
        total: Bucket,
        bulk: Bucket | None,
        keep_free_s: float,
    ) -> tuple[float, bool]:
        self.calls += 1
        if random.random() < 1 / _PRUNE_EVERY:
            await self._run(_PRUNE, chat_bucket.tolerance + chat_bucket.interval + 60.0)
        row = await self._run(
            _SLOT,
            f"chat:{chat}" if chat is not None else None,
            chat_bucket.interval,
            chat_bucket.tolerance,
            total.interval,
            total.tolerance,
            bulk.interval if bulk is not None else None,
            bulk.tolerance if bulk is not None else 0.0,
            keep_free_s,
            fetch=True,
        )
        assert row is not None
        return float(row[0]), bool(row[1])

    async def _run(self, sql: str, *args: object, fetch: bool = False) -> Any:
        import asyncpg

        if self._pool is None:
            try:
                await self.open()
            except (OSError, asyncpg.PostgresError, TimeoutError) as error:
                raise BudgetUnavailable(str(error)) from error
        try:
            async with self._pool.acquire(timeout=self.timeout_s) as connection:
                if fetch:
                    return await connection.fetchrow(sql, *args, timeout=self.timeout_s)
                return await connection.execute(sql, *args, timeout=self.timeout_s)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as error:
            raise BudgetUnavailable(str(error)) from error
