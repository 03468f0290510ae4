"""Fixtures of the evidence-analysis tests."""
from __future__ import annotations

import pytest

from support import checks, db, evidence
from support.cases import get_by_number
from support.models import AnalysisStatus, EvidenceKind


@pytest.fixture
def upload(app):
    """``upload(number, kind, data, name) -> evidence id``, attached as intake attaches it, waiting for analysis."""

    def add(number: str, kind: EvidenceKind, data: bytes, name: str = "photo.jpg") -> int:
        with app.test_request_context(), db.transaction(app) as session:
            case = get_by_number(session, number)
            item = evidence.attach(session, case=case, upload=evidence.Upload(name, data, kind),
                                   uploaded_by="claimant", config=app.config)
            item.analysis_status = AnalysisStatus.pending
            session.add(item)
            checks.refresh(session, case, app.config)
            return item.id

    return add
