"""Reading this installation's row, making it the first time it is needed."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.instance.entities import INSTANCE_ID, Instance


def new_uid_domain() -> str:
    """64 random bits: unique among installations without naming any host."""
    return f"{secrets.token_hex(8)}.buurtagenda"


async def uid_domain(session: AsyncSession) -> str:
    """The installation's UID domain; made (once, whoever comes first) when there is none yet.

    Two transactions that both find no row both insert; ON CONFLICT lets the second one's insert
    do nothing, and its SELECT then reads the first one's domain (it waited for that commit)."""
    found = await session.scalar(select(Instance.uid_domain).where(Instance.id == INSTANCE_ID))
    if found is not None:
        return found
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        insert(Instance)
        .values(id=INSTANCE_ID, uid_domain=new_uid_domain(), created_at=utcnow())
        .on_conflict_do_nothing(index_elements=[Instance.id])
    )
    domain = await session.scalar(select(Instance.uid_domain).where(Instance.id == INSTANCE_ID))
    assert domain is not None
    return domain
