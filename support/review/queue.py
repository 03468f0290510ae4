"""The review queue: filters, searches, sorts and keyset pages that stay fast at a million cases.

Every sort is a keyset over (sort column, id), ascending or descending, backed by an
index of the review_1 and queue_1 migrations (for the open queue, per status and for
every case); there is no OFFSET, so page 500 costs what page 1 costs. Searches are
indexed equality look-ups, never a ``LIKE '%x%'`` scan: a case number, IMEI, contact
email or account ID is looked up exactly, and any other search (or one of those that finds
no case) is a full-text search (``search``), ranked, whose pages are bounded offsets
(``r50``, ``r100`` …) into that ranking. Counts per status come from ``case_status_count``,
which database triggers keep exact.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Integer, and_, bindparam, false, func, literal_column, text, tuple_
from sqlalchemy import case as case_when
from sqlmodel import Session, or_, select

from ..models import (FLAGGED_CASES_SQL, MODEL_SORT_SQL, OPEN_CASES_SQL, Case, CaseKind, CaseStatus, CaseStatusCount,
                      Evidence, Message, utcnow)
from . import search

PAGE_SIZE = 50
#: sort name -> (column or indexed expression, descending by default); the whitelist of ``sort``
SORTS = {"sla": (Case.sla_due_at, False), "age": (Case.created_at, False), "risk": (Case.risk_score, True),
         "name": (Case.claimant_name, False), "model": (literal_column(MODEL_SORT_SQL), False)}
#: what a cursor's value is read back as, per sort
_CURSOR_TYPES = {"sla": datetime.fromisoformat, "age": datetime.fromisoformat, "risk": int, "name": str, "model": str}
DIRECTIONS = ("asc", "desc")
STATUSES = ("open", "all", *(status.value for status in CaseStatus))
ASSIGNEES = ("anyone", "me", "unassigned")
NUMBER = re.compile(r"^RD-\d{4}-\d{1,12}$")
#: the cursor of a ranked (full-text) page: its offset into the ranking
RANKED_CURSOR = re.compile(r"^r(\d{1,6})$")


class BadCursor(ValueError):
    """The ``after`` parameter is not a cursor this queue produced."""


@dataclass(frozen=True)
class QueueFilter:
    """What the agent asked to see; unknown values fall back to the defaults."""

    status: str = "open"
    kind: str = ""
    assignee: str = "anyone"
    breached: bool = False
    flagged: bool = False
    sort: str = "sla"
    #: "asc" or "desc"; empty: the sort's own default direction
    dir: str = ""
    q: str = ""
    after: str = ""

    @property
    def descending(self) -> bool:
        return self.dir == "desc" if self.dir else SORTS[self.sort][1]

    def sorted_by(self, sort: str) -> dict:
        """Arguments for a column header: this column, its other direction when it is the current sort."""
        if sort == self.sort:
            return self.args(sort=sort, dir="asc" if self.descending else "desc", after="")
        return self.args(sort=sort, dir="", after="")

    def aria_sort(self, sort: str) -> str | None:
        if sort != self.sort:
            return None
        return "descending" if self.descending else "ascending"

    @classmethod
    def from_args(cls, args) -> "QueueFilter":
        q = (args.get("q") or "").strip()[:254]
        status = args.get("status") or ("all" if q else "open")
        kind = args.get("kind") or ""
        return cls(
            status=status if status in STATUSES else "open",
            kind=kind if kind in {k.value for k in CaseKind} else "",
            assignee=args.get("assignee") if args.get("assignee") in ASSIGNEES else "anyone",
            breached=args.get("breached") in {"1", "on", "true"},
            flagged=args.get("flagged") in {"1", "on", "true"},
            sort=args.get("sort") if args.get("sort") in SORTS else "sla",
            dir=args.get("dir") if args.get("dir") in DIRECTIONS else "",
            q=q,
            after=args.get("after") or "",
        )

    def args(self, **changes) -> dict:
        """Query-string arguments for a link to this view (with ``changes``), defaults left out."""
        chosen = replace(self, **changes)
        values = {"status": chosen.status, "kind": chosen.kind, "assignee": chosen.assignee,
                  "breached": "1" if chosen.breached else "", "flagged": "1" if chosen.flagged else "", "sort": chosen.sort, "dir": chosen.dir, "q": chosen.q,
                  "after": chosen.after}
        defaults = {"status": "all" if chosen.q else "open", "assignee": "anyone", "sort": "sla",
                    "dir": "desc" if SORTS[chosen.sort][1] else "asc"}
        return {key: value for key, value in values.items() if value and defaults.get(key) != value}


def _latest(model, case_id, *condition):
    """When ``model`` (Message or Evidence) last had a row for ``case_id`` (a column) matching ``condition``."""
    return select(func.max(model.created_at)).where(model.case_id == case_id, *condition).scalar_subquery()


def _answered_after(case_id, asked_at):
    """The claimant wrote or uploaded on ``case_id`` after ``asked_at`` (false when it is NULL)."""
    return or_(_latest(Message, case_id, Message.author_type == "claimant") > asked_at,
               _latest(Evidence, case_id, Evidence.uploaded_by == "claimant") > asked_at)


def claimant_replied_after_agent(case_id):
    """True for the case ``case_id`` (a column) where the claimant answered, by message or
    evidence, after an agent's last message.

    That is the "claimant replied" marker: derived from data, so it clears itself when an
    agent writes back, and needs no flag to keep in step. A correlated condition (look-ups on
    the message and evidence indexes of that one case), so a page of the queue reads it with
    its rows instead of in a statement of its own.
    """
    return _answered_after(case_id, _latest(Message, case_id, Message.author_type == "agent"))


#: what a queue row shows: plain rows, not ORM objects (no identity map, no JSON to decode);
#: ``queue_rows.rows`` unpacks them in this order
ROW_COLUMNS = (Case.id, Case.number, Case.kind, Case.status, Case.created_at, Case.sla_due_at, Case.sla_breached,
               Case.risk_score, Case.assignee_id, Case.flagged, Case.claimant_name, Case.model, Case.version,
               # the "claimant replied" marker of a case in review comes with its row, not in a statement of its own
               case_when((Case.status == CaseStatus.in_review, claimant_replied_after_agent(Case.id)),
                         else_=false()).label("replied"))

#: a ranked page's rows, by id (built once: building it cost more than running it)
RANKED_ROWS = select(*ROW_COLUMNS).where(Case.id.in_(bindparam("ids", expanding=True)))


@dataclass
class Page:
    cases: list  # rows with the ROW_COLUMNS attributes (``replied`` among them)
    next_after: str | None
    #: a full-text search: cases in order of relevance, not of ``sort``
    ranked: bool = False
    #: ranked pages: per case id, where it matched (``search.Excerpt``)
    matches: dict = field(default_factory=dict)
    #: ranked pages: only the newest matches were ranked
    capped: bool = False


def breached(now):
    """Flagged by the sweep, or already overdue while it is the desk's turn (before the next sweep)."""
    return or_(Case.sla_breached.is_(True),
               and_(Case.status.in_((CaseStatus.new, CaseStatus.in_review)), Case.sla_due_at < now))


#: the exact searches: a case number, a contact email (as typed and lower case), an IMEI in
#: either slot, an account ID; each an indexed equality on its value
EXACT = {"number": lambda value: Case.number == value,
         "email": lambda values: Case.contact_email.in_(values),
         "imei": lambda value: or_(Case.imei1 == value, Case.imei2 == value),
         "account": lambda value: Case.hint_account_id == value}


def exact_search(term: str) -> tuple[str, object] | None:
    """Which exact search ``term`` is (an ``EXACT`` key) and the value it looks up; None for
    anything else (a full-text search)."""
    compact = re.sub(r"[\s\-/]", "", term)
    if NUMBER.match(term.upper()):
        return "number", term.upper()
    if "@" in term:
        return "email", sorted({term, term.lower()})
    if compact.isdigit() and len(compact) == 15:
        return "imei", compact
    if compact.isdigit() and len(compact) <= 20:
        return "account", compact
    return None


def _sort_value(case, sort: str):
    if sort == "model":
        return case.model or ""
    return getattr(case, SORTS[sort][0].key)


def _cursor(case, sort: str) -> str:
    value = _sort_value(case, sort)
    return f"{value.isoformat() if isinstance(value, datetime) else value}|{case.id}"


def _parse_cursor(after: str, sort: str) -> tuple:
    value, separator, case_id = after.rpartition("|")
    if not separator or not case_id.isdigit():
        raise BadCursor(after)
    try:
        value = _CURSOR_TYPES[sort](value)
    except ValueError as error:
        raise BadCursor(after) from error
    if isinstance(value, datetime) and value.tzinfo is None:
        raise BadCursor(after)  # this queue writes aware times only
    return value, int(case_id)


def age_label(created_at: datetime, now: datetime) -> tuple[int, str]:
    """How old a case is: (hours, "h") under two days, else (days, "d")."""
    hours = max(0, int((now - created_at).total_seconds() // 3600))
    return (hours, "h") if hours < 48 else (hours // 24, "d")


def conditions(chosen: QueueFilter, *, agent_id, now=None) -> list:
    """The queue's filters (status, kind, assignee, breached, flagged) as WHERE conditions on
    ``case``; ``agent_id`` and ``now`` (default: this moment) may be bound parameters."""
    found = []
    if chosen.status == "open":
        found.append(text(OPEN_CASES_SQL))  # literal SQL: matches the partial indexes
    elif chosen.status != "all":
        found.append(Case.status == CaseStatus(chosen.status))
    if chosen.kind:
        found.append(Case.kind == CaseKind(chosen.kind))
    if chosen.assignee == "me":
        found.append(Case.assignee_id == agent_id)
    elif chosen.assignee == "unassigned":
        found.append(Case.assignee_id.is_(None))
    if chosen.breached:
        found.append(breached(utcnow() if now is None else now))
    if chosen.flagged:
        found.append(text(FLAGGED_CASES_SQL))  # literal SQL: matches the partial index ix_case_flagged
    return found


def page(session: Session, chosen: QueueFilter, *, agent_id: int, size: int = PAGE_SIZE) -> Page:
    """One page of the queue for ``chosen``; raises BadCursor for a forged ``after``.

    An exact search (number, IMEI, email, account ID) that finds nothing becomes a
    full-text search, as does every other search."""
    exact = exact_search(chosen.q) if chosen.q else None
    if chosen.q and (exact is None or RANKED_CURSOR.match(chosen.after)):
        return ranked_page(session, chosen, agent_id=agent_id, size=size)
    found = _keyset_page(session, chosen, exact, agent_id=agent_id, size=size)
    if exact is not None and not found.cases and not chosen.after:
        return ranked_page(session, chosen, agent_id=agent_id, size=size)
    return found


def _keyset_page(session: Session, chosen: QueueFilter, exact: tuple[str, object] | None, *, agent_id: int,
                 size: int) -> Page:
    values = {"agent_id": agent_id, "now": utcnow()}
    if exact is not None:
        values["exact"] = exact[1]
    if chosen.after:
        values["after_value"], values["after_id"] = _parse_cursor(chosen.after, chosen.sort)
    # the statement's shape: everything but the values bound above
    shape = replace(chosen, q="", after="after" if chosen.after else "")
    rows = session.execute(_keyset_statement(shape, exact and exact[0], size), values).all()
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, _cursor(rows[-1], chosen.sort) if more else None)


@lru_cache(maxsize=1024)
def _keyset_statement(shape: QueueFilter, exact: str | None, size: int):
    """A keyset page's statement, built once per shape of filter and bound at each execution.

    Building it and working out its cache key cost more than running it at ten million
    cases. Its LIMIT is written into the SQL: a bound LIMIT kept PostgreSQL from reusing a
    prepared plan (the generic plan guessed a tenth of the rows) and planned every page anew.
    """
    column, descending = SORTS[shape.sort][0], shape.descending
    query = select(*ROW_COLUMNS).where(*_bound_conditions(shape))
    if exact is not None:
        query = query.where(EXACT[exact](bindparam("exact", expanding=exact == "email")))
    if shape.after:
        value, case_id = bindparam("after_value", type_=column.type), bindparam("after_id", type_=Integer())
        key, bound = tuple_(column, Case.id), tuple_(value, case_id)
        # the single-column bound is implied by the row comparison; it lets SQLite seek an
        # expression index (the model sort) instead of walking it from the start
        query = query.where(column <= value if descending else column >= value,
                            key < bound if descending else key > bound)
    order = (column.desc(), Case.id.desc()) if descending else (column, Case.id)
    return query.order_by(*order).limit(literal_column(str(size + 1)))


def _bound_conditions(chosen: QueueFilter) -> tuple:
    """The queue's conditions for ``chosen``'s filters, the agent (``agent_id``) and the time
    (``now``) bound at execution: the same objects for the same filters whatever the search,
    sort or page, so each statement made from them is built once (``_filtered``)."""
    return _filtered(replace(chosen, q="", after="", sort=QueueFilter.sort, dir=""))


@lru_cache(maxsize=256)
def _filtered(filters: QueueFilter) -> tuple:
    return tuple(conditions(filters, agent_id=bindparam("agent_id"), now=bindparam("now")))


def ranked_page(session: Session, chosen: QueueFilter, *, agent_id: int, size: int) -> Page:
    """A page of the full-text search for ``chosen.q``, best match first (``search.rank``)."""
    cursor = RANKED_CURSOR.match(chosen.after)
    if chosen.after and not cursor:
        raise BadCursor(chosen.after)
    offset = int(cursor.group(1)) if cursor else 0
    terms = search.Terms.parse(chosen.q)
    if not terms:
        return Page([], None, ranked=True)
    ranking = search.rank(session, terms, _bound_conditions(chosen), {"agent_id": agent_id, "now": utcnow()})
    ids = ranking.case_ids[offset:offset + size]
    rows = {row.id: row for row in session.connection().execute(RANKED_ROWS, {"ids": ids})} if ids else {}
    shown = [rows[case_id] for case_id in ids if case_id in rows]
    more = offset + size < len(ranking.case_ids)
    matches = search.excerpts(session, terms, {case_id: ranking.found[case_id] for case_id in ids})
    return Page(shown, f"r{offset + size}" if more else None, ranked=True, matches=matches, capped=ranking.capped)


#: the trigger-kept counter rows, read with the page's other short lists (``db_together``)
COUNTS = select(CaseStatusCount.status, CaseStatusCount.count)


def counts_of(rows: list[dict]) -> dict[str, int]:
    """Cases per status (every status, zero included), from the ``COUNTS`` rows."""
    found = {row["status"]: row["count"] for row in rows}
    return {status.value: found.get(status.value, 0) for status in CaseStatus}


def counts(session: Session) -> dict[str, int]:
    """Cases per status (every status, zero included), from the trigger-kept counter table."""
    return counts_of(session.execute(COUNTS).mappings().all())


def claimant_replied(session: Session, case_id: int) -> bool:
    """Whether the claimant answered on this case after an agent's last message."""
    return bool(session.exec(select(claimant_replied_after_agent(Case.id)).where(Case.id == case_id)).first())


def my_replied_cases(session: Session, *, agent_id: int, limit: int = 200) -> int:
    """How many of the agent's own cases in review carry the "claimant replied" marker (the navigation badge).

    Bounded, as it runs on every page an agent loads: among the agent's ``limit`` most urgent
    cases in review (the assignee index's order), far more than anyone works at once. One
    statement that starts from the agent messages on those cases; each "who wrote last" is
    one index-only look-up (migration ``replied_1``), so a case nobody wrote on costs one probe.
    """
    return session.connection().execute(_MY_REPLIED, {"agent_id": agent_id, "limit": limit}).scalar_one()


def _my_replied_statement():
    """``my_replied_cases``'s statement, built once: building it cost as much as running it."""
    mine = (select(Case.id).where(Case.assignee_id == bindparam("agent_id"), Case.status == CaseStatus.in_review)
            .limit(bindparam("limit")))
    asked = (select(Message.case_id, func.max(Message.created_at).label("at"))
             .where(Message.case_id.in_(mine), Message.author_type == "agent").group_by(Message.case_id).subquery())
    return select(func.count()).select_from(asked).where(_answered_after(asked.c.case_id, asked.c.at))


_MY_REPLIED = _my_replied_statement()
