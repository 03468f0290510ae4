"""One lock order on PostgreSQL: the audit chain's lock before any row lock.

Appends to the audit trail are serialised by a transaction-level advisory lock
(``audit.lock_chain``), held from a transaction's first event until it ends. A
transaction that had changed or locked a row before its first event, while another that
already held the chain's lock wanted that row, waited on each other until PostgreSQL
failed one of them: under two servers' load, two filings or confirmations crossed on the
``case_status_count`` row and one claimant got a 500. So a transaction takes the chain's
lock before its first write or ``SELECT … FOR UPDATE``; it is always the first lock
taken, and no cycle can form through it. Reading takes nothing. SQLite needs none of
this: a writing transaction begins IMMEDIATE, one writer at a time.
"""
from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session

from . import audit

_HELD = "lock_order.chain_held"


def watch(session: Session) -> None:
    """Take the chain's lock before ``session`` first writes or locks a row, in each transaction."""
    if session.get_bind().dialect.name != "postgresql":
        return
    event.listen(session, "before_flush", _before_flush)
    event.listen(session, "do_orm_execute", _before_statement)
    event.listen(session, "after_transaction_end", _forget)


def _before_flush(session: Session, _context, _instances) -> None:
    if session.new or session.deleted or session.dirty:
        _hold(session)


def _before_statement(state: ORMExecuteState) -> None:
    locks_rows = state.is_select and getattr(state.statement, "_for_update_arg", None) is not None
    if state.is_insert or state.is_update or state.is_delete or locks_rows:
        _hold(state.session)


def _hold(session: Session) -> None:
    if not session.info.get(_HELD):
        session.info[_HELD] = True
        audit.lock_chain(session)


def _forget(session: Session, _transaction) -> None:
    # any end, a savepoint's too: a rolled-back savepoint gives back the locks taken inside it
    session.info.pop(_HELD, None)


def init_app(app: Flask) -> None:
    app.extensions.setdefault("db_session_hooks", []).append(watch)
