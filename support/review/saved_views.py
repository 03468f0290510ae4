"""An agent's saved queue views: a name and the queue's filters and sort, for that agent alone."""
from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import bindparam
from sqlmodel import Session, select

from ..models import SavedQueueView
from .queue import QueueFilter

MAX_VIEWS = 20
MAX_NAME = 60


class ViewRefused(ValueError):
    """The name is empty or too long, or the agent has too many views."""


#: the views of the agent ``agent_id`` as the queue lists them (read with its other short lists, ``db_together``)
LISTING = select(SavedQueueView.id, SavedQueueView.name, SavedQueueView.query).where(
    SavedQueueView.agent_id == bindparam("agent_id"))


def for_agent(session: Session, agent_id: int) -> list[SavedQueueView]:
    return list(session.exec(select(SavedQueueView).where(SavedQueueView.agent_id == agent_id)
                             .order_by(SavedQueueView.name)))


def query_of(chosen: QueueFilter) -> str:
    """The view's query string: filters and sort as the queue writes them, never a page cursor."""
    return urlencode(chosen.args(after=""))


def save(session: Session, *, agent_id: int, name: str, chosen: QueueFilter) -> SavedQueueView:
    """Save (or, under an existing name, replace) the agent's view ``chosen``."""
    name = " ".join((name or "").split())
    if not name or len(name) > MAX_NAME:
        raise ViewRefused("name")
    view = session.exec(select(SavedQueueView).where(SavedQueueView.agent_id == agent_id,
                                                     SavedQueueView.name == name)).first()
    if view is None:
        if len(for_agent(session, agent_id)) >= MAX_VIEWS:
            raise ViewRefused("too_many")
        view = SavedQueueView(agent_id=agent_id, name=name, query="")
    view.query = query_of(chosen)
    session.add(view)
    session.flush()
    return view


def get_own(session: Session, *, view_id: int, agent_id: int) -> SavedQueueView | None:
    """The view if it is this agent's; None for another agent's (the caller answers 404, not 403)."""
    view = session.get(SavedQueueView, view_id)
    return view if view is not None and view.agent_id == agent_id else None
