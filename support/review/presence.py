"""Who else has a case page open: heartbeats kept in ``case_presence`` (Zammad's collision indicator).

Each open case page beats every ``PRESENCE_POLL_SECONDS``; a beat counts for
``PRESENCE_TTL_SECONDS``, so a closed tab disappears on its own even when its goodbye is
lost. One beat is one small upsert in its own short request: it never waits on slow work
and nothing privileged rests on it, so it is not audited. Claimants never reach it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from ..models import Agent, CasePresence


@dataclass(frozen=True)
class Viewer:
    name: str
    writing: bool


def beat(session: Session, *, case_id: int, agent_id: int, writing: bool, now: datetime) -> None:
    """Record that the agent has the case open now (and whether they are typing a reply)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(CasePresence).values(case_id=case_id, agent_id=agent_id, seen_at=now, writing=writing)
    session.execute(statement.on_conflict_do_update(index_elements=["case_id", "agent_id"],
                                                    set_={"seen_at": now, "writing": writing}))


def leave(session: Session, *, case_id: int, agent_id: int) -> None:
    """The agent closed the page: they stop being shown at once."""
    session.execute(delete(CasePresence).where(CasePresence.case_id == case_id, CasePresence.agent_id == agent_id))


def others(session: Session, *, case_id: int, agent_id: int, now: datetime, ttl_seconds: int) -> list[Viewer]:
    """The other agents whose beat on this case is younger than the TTL, by name."""
    rows = session.exec(select(Agent.name, CasePresence.writing).join(Agent, Agent.id == CasePresence.agent_id)
                        .where(CasePresence.case_id == case_id, CasePresence.agent_id != agent_id,
                               CasePresence.seen_at > now - timedelta(seconds=ttl_seconds))
                        .order_by(Agent.name))
    return [Viewer(name, bool(writing)) for name, writing in rows]


def forget_stale(session: Session, *, case_id: int, now: datetime, ttl_seconds: int) -> None:
    """Drop this case's expired beats (the table stays as small as the agents' open tabs)."""
    session.execute(delete(CasePresence).where(CasePresence.case_id == case_id,
                                               CasePresence.seen_at <= now - timedelta(seconds=ttl_seconds)))
