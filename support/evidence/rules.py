"""What each kind of case needs: ``REQUIRED`` evidence kinds and ``missing_evidence``."""
from __future__ import annotations

from typing import Iterable

from ..models import CaseKind, EvidenceKind


K = EvidenceKind


#: per case kind, each set is one requirement: any one of its kinds satisfies it
REQUIRED: dict[CaseKind, list[set[EvidenceKind]]] = {
    CaseKind.device_unbind: [{K.receipt}, {K.box_photo}],
    CaseKind.lost_credentials: [{K.receipt}, {K.box_photo}, {K.imei_screen}],
    CaseKind.locked_account: [{K.id_document, K.receipt}],
}


def missing_evidence(kind: CaseKind, present: Iterable[EvidenceKind]) -> list[set[EvidenceKind]]:
    """The requirements of ``kind`` that none of the ``present`` kinds satisfies."""
    have = set(present)
    return [needed for needed in REQUIRED[kind] if not needed & have]
