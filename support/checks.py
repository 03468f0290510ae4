"""Automatic checks of a case and its risk score (filled in by the review issue).

``refresh`` is called whenever a case is filed or gets new evidence.
"""
from __future__ import annotations

from sqlmodel import Session

from .models import Case


def refresh(session: Session, case: Case, config: dict) -> None:
    """Recompute ``case.checks`` and ``case.risk_score``."""
