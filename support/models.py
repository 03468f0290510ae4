"""Tables and enums of Recovery Desk. Imports nothing of ours.

Every enum people see carries its own translated titles (``__titles__``, as Indico's
``RichEnum`` does): the one home of a status's or a kind's name in every language.
Their translations live in the shared catalog ``support/translations``.

Times are aware UTC datetimes (``utcnow()``); SQLModel stores and returns them in UTC on
SQLite and PostgreSQL alike.
"""
from __future__ import annotations

import enum
from datetime import date, datetime, timezone
from typing import Optional

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Text, UniqueConstraint, text
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import declared_attr
from flask_babel import lazy_gettext as _l
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class StrEnum(str, enum.Enum):
    def __str__(self) -> str:
        return self.value


class TitledEnum(StrEnum):
    """An enum whose members carry a title in the reader's language.

    ``__titles__`` maps each value to a lazy translation; ``member.title`` (and
    ``Enum.title_of(value)`` for a value read back from JSON) give it as text in the
    current locale, the value itself when a member has no title.
    """

    __titles__: dict = {}

    @property
    def title(self) -> str:  # shadows str.title on purpose: the member's name for people
        return str(self.__titles__.get(self.value, self.value))

    @classmethod
    def title_of(cls, value) -> str:
        """The title of ``value`` (a member or its stored string); unknown values as they are."""
        if value is None:
            return ""
        key = getattr(value, "value", value)
        title = cls.__titles__.get(key)
        return str(title) if title is not None else str(key)

    @classmethod
    def titles(cls) -> dict[str, str]:
        """Every value's title as text in the current language, in the enum's order."""
        return {member.value: member.title for member in cls}


class Language(TitledEnum):
    """A language the desk speaks: the claimant's, an account owner's, an agent's."""

    en = "en"
    ru = "ru"
    it = "it"

    __titles__ = {"en": _l("English"), "ru": _l("Russian"), "it": _l("Italian")}


def stored(enum_type: type[enum.Enum]) -> SAEnum:
    """Enums are stored as plain strings (no PostgreSQL enum types to migrate)."""
    return SAEnum(enum_type, native_enum=False, length=32)


# -- the account directory ---------------------------------------------------------


class AccountStatus(TitledEnum):
    active = "active"
    locked = "locked"

    __titles__ = {"active": _l("active"), "locked": _l("locked")}


class Account(SQLModel, table=True):
    """An account of the built-in directory (the system being recovered)."""

    #: the numeric account ID people sign in with
    id: Optional[int] = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    email: Optional[str] = Field(default=None, unique=True, index=True, max_length=254)
    phone: Optional[str] = Field(default=None, unique=True, index=True, max_length=32)
    password_hash: str
    status: AccountStatus = Field(default=AccountStatus.active, sa_type=stored(AccountStatus))
    failed_attempts: int = 0
    locked_at: Optional[datetime] = None
    lock_reason: Optional[str] = None
    last_sign_in_at: Optional[datetime] = None
    #: the owner's language for notices (en/ru/it); unset: derived from the phone's country code
    language: Optional[str] = Field(default=None, max_length=8)
    created_at: datetime = Field(default_factory=utcnow)


class SignInFailure(SQLModel, table=True):
    """Wrong passwords typed for a sign-in name that matches no account, counted as an
    account's are, so the sign-in page's "attempts left" says nothing about which names
    have an account. Only a hash of the name is kept."""

    __tablename__ = "sign_in_failure"

    #: SHA-256 of the sign-in name as the directory normalises it
    login_hash: str = Field(primary_key=True, max_length=64)
    #: wrong passwords in a row; at the lock threshold the name answers "locked" as an account does
    failed_attempts: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class AccountContactRecord(SQLModel, table=True):
    """The contacts the directory had for an account when a case about it was filed.

    Notices of a privileged action go to these too (for 30 days), so an email or phone
    replaced in between cannot silence the original owner.
    """

    __tablename__ = "account_contact_record"
    __table_args__ = (Index("ix_account_contact_record_account", "account_id", "recorded_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    email: Optional[str] = Field(default=None, max_length=254)
    phone: Optional[str] = Field(default=None, max_length=32)
    case_id: int = Field(foreign_key="case.id")
    recorded_at: datetime = Field(default_factory=utcnow)


class Device(SQLModel, table=True):
    """A phone (or band, TV) and the account it is bound to, if any."""

    id: Optional[int] = Field(default=None, primary_key=True)
    imei1: str = Field(unique=True, index=True, max_length=15)
    imei2: Optional[str] = Field(default=None, unique=True, index=True, max_length=15)
    serial: Optional[str] = Field(default=None, max_length=64)
    model: Optional[str] = Field(default=None, max_length=120)
    account_id: Optional[int] = Field(default=None, sa_column=Column(BigInteger, index=True))
    bound_at: Optional[datetime] = None
    lost_or_stolen: bool = False
    created_at: datetime = Field(default_factory=utcnow)


# -- agents --------------------------------------------------------------------------


class Role(TitledEnum):
    agent = "agent"
    supervisor = "supervisor"
    auditor = "auditor"
    admin = "admin"
    #: the data-protection officer: finds a claimant's cases and erases their personal data
    dpo = "dpo"

    __titles__ = {"agent": _l("Agent"), "supervisor": _l("Supervisor"), "auditor": _l("Auditor"), "admin": _l("Administrator"),
                  "dpo": _l("Data-protection officer")}


class Agent(SQLModel, table=True):
    """A member of the support team (signs in at /agent/sign-in)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True, max_length=254)
    name: str = Field(max_length=120)
    role: Role = Field(default=Role.agent, sa_type=stored(Role))
    password_hash: str
    active: bool = True
    failed_sign_ins: int = 0
    #: no sign-in attempt is checked before this time (throttle, then temporary lock)
    locked_until: Optional[datetime] = None
    last_sign_in_at: Optional[datetime] = None
    totp_secret: Optional[str] = None
    #: the last TOTP time step accepted, so a code cannot be replayed in its window
    totp_last_step: Optional[int] = None
    #: part of every session's user id; raising it ends every session signed in before
    session_generation: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    #: the language of the agent's pages and emails (a ``Language`` value)
    language: str = Field(default="en", max_length=8, sa_column_kwargs={"server_default": "en"})
    created_at: datetime = Field(default_factory=utcnow)

    # flask-login's user protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """What flask-login keeps in the session: the id and the session generation."""
        return f"{self.id}:{self.session_generation}"


# -- cases ----------------------------------------------------------------------------


class CaseKind(TitledEnum):
    locked_account = "locked_account"
    lost_credentials = "lost_credentials"
    device_unbind = "device_unbind"

    __titles__ = {"locked_account": _l("Locked account"), "lost_credentials": _l("Lost email and phone"),
                  "device_unbind": _l("Device bound to another account")}


class CaseStatus(TitledEnum):
    submitted = "submitted"
    new = "new"
    in_review = "in_review"
    waiting_on_claimant = "waiting_on_claimant"
    approved = "approved"
    rejected = "rejected"
    executed = "executed"
    closed = "closed"

    __titles__ = {"submitted": _l("Submitted"), "new": _l("New"), "in_review": _l("In review"),
                  "waiting_on_claimant": _l("Waiting on claimant"), "approved": _l("Approved"),
                  "rejected": _l("Rejected"), "executed": _l("Executed"), "closed": _l("Closed")}


#: the queue's default view: cases still someone's work. Kept as literal SQL so the
#: partial indexes below match the queue's WHERE clause on SQLite and PostgreSQL alike.
OPEN_CASES_SQL = "status IN ('new', 'in_review', 'waiting_on_claimant', 'approved')"
#: flagged cases, as literal SQL for the same reason (the partial index ``ix_case_flagged``)
FLAGGED_CASES_SQL = "flagged"
#: the device model as the queue sorts it, literal SQL so the expression indexes match
MODEL_SORT_SQL = "coalesce(model, '')"


def _queue_index(name: str, *columns: str, open_only: bool = False) -> Index:
    where = text(OPEN_CASES_SQL) if open_only else None
    return Index(name, *columns, sqlite_where=where, postgresql_where=where)


def _flagged_queue_index(name: str, *columns: str) -> Index:
    where = text(f"{FLAGGED_CASES_SQL} AND {OPEN_CASES_SQL}")
    return Index(name, *columns, sqlite_where=where, postgresql_where=where)


class Case(SQLModel, table=True):
    """One recovery request and everything decided about it."""

    #: keyset pagination of the review queue: every sort ends in ``id`` (review_1, review_2 migrations)
    __table_args__ = (
        _queue_index("ix_case_open_sla", "sla_due_at", "id", open_only=True),
        _queue_index("ix_case_open_risk", "risk_score", "id", open_only=True),
        _queue_index("ix_case_open_age", "created_at", "id", open_only=True),
        _queue_index("ix_case_open_assignee_sla", "assignee_id", "sla_due_at", "id", open_only=True),
        _queue_index("ix_case_open_kind_sla", "kind", "sla_due_at", "id", open_only=True),
        _queue_index("ix_case_status_sla", "status", "sla_due_at", "id"),
        _queue_index("ix_case_status_risk", "status", "risk_score", "id"),
        _queue_index("ix_case_status_age", "status", "created_at", "id"),
        _queue_index("ix_case_assignee_status_sla", "assignee_id", "status", "sla_due_at", "id"),
        Index("ix_case_flagged", "status", "sla_due_at", "id", sqlite_where=text(FLAGGED_CASES_SQL),
              postgresql_where=text(FLAGGED_CASES_SQL)),
        # the flagged queue in its default and risk order (queue10m_1 migration)
        _flagged_queue_index("ix_case_flagged_open_sla", "sla_due_at", "id"),
        _flagged_queue_index("ix_case_flagged_open_risk", "risk_score", "id"),
        # the queue's claimant and model columns sort by these (queue_1 migration); a missing
        # model sorts as "" so the keyset never compares with NULL
        _queue_index("ix_case_open_name", "claimant_name", "id", open_only=True),
        _queue_index("ix_case_status_name", "status", "claimant_name", "id"),
        _queue_index("ix_case_name", "claimant_name", "id"),
        _queue_index("ix_case_open_model", text(MODEL_SORT_SQL), "id", open_only=True),
        _queue_index("ix_case_status_model", "status", text(MODEL_SORT_SQL), "id"),
        _queue_index("ix_case_model", text(MODEL_SORT_SQL), "id"),
    )

    @declared_attr
    def __mapper_args__(cls) -> dict:  # optimistic locking: every UPDATE checks `version`
        return {"version_id_col": cls.__table__.c.version}

    id: Optional[int] = Field(default=None, primary_key=True)
    #: human-readable number, e.g. RD-2026-000123 (set right after the first flush)
    number: Optional[str] = Field(default=None, unique=True, index=True, max_length=20)
    kind: CaseKind = Field(index=True, sa_type=stored(CaseKind))
    status: CaseStatus = Field(default=CaseStatus.submitted, index=True, sa_type=stored(CaseStatus))
    claimant_name: str = Field(max_length=200)
    contact_email: str = Field(index=True, max_length=254)
    contact_confirmed_at: Optional[datetime] = None
    language: str = Field(default="en", max_length=8)
    consent_at: Optional[datetime] = None
    #: what the claimant remembers of the account: any of these, possibly partial
    hint_account_id: Optional[str] = Field(default=None, index=True, max_length=32)
    hint_email: Optional[str] = Field(default=None, max_length=254)
    hint_phone: Optional[str] = Field(default=None, max_length=32)
    imei1: str = Field(index=True, max_length=15)
    imei2: Optional[str] = Field(default=None, index=True, max_length=15)
    serial: Optional[str] = Field(default=None, max_length=64)
    model: Optional[str] = Field(default=None, max_length=120)
    purchase_date: Optional[date] = None
    shop: Optional[str] = Field(default=None, max_length=200)
    sla_due_at: Optional[datetime] = Field(default=None, index=True)
    sla_breached: bool = False
    assignee_id: Optional[int] = Field(default=None, foreign_key="agent.id", index=True)
    version: int = Field(default=1)
    risk_score: int = Field(default=0, index=True)
    #: automatic check results: [{"code", "result": pass|warn|fail, "detail", "links"}]
    checks: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: flagged for a supervisor (e.g. an old owner said "this was not me")
    flagged: bool = False
    flag_reason: Optional[str] = None
    #: when the account owner last objected; never cleared, so clearing the flag does not lift
    #: "only a supervisor, with a written reason, may request an action" (trust2_b_1 migration)
    objected_at: Optional[datetime] = None
    decision: Optional[str] = Field(default=None, max_length=20)
    decision_reason: Optional[str] = Field(default=None, sa_column=Column(Text))
    decision_note: Optional[str] = Field(default=None, sa_column=Column(Text))
    decided_by_id: Optional[int] = Field(default=None, foreign_key="agent.id")
    decided_at: Optional[datetime] = None
    #: SHA-256 of the private tracking token; the token itself is never stored
    token_hash: str = Field(max_length=64, index=True)
    waiting_since: Optional[datetime] = None
    reminded_at: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    closed_at: Optional[datetime] = None
    #: when the claimant's personal data was erased (``erasure``); the case keeps its number,
    #: kind, status, decision, dates and evidence hashes, and takes no new input
    erased_at: Optional[datetime] = Field(default=None, index=True)


class CheckCode(TitledEnum):
    """The automatic checks (``checks``), each stored in ``Case.checks`` by its code."""

    imei_check_digit = "imei_check_digit"
    imei_known = "imei_known"
    account_match = "account_match"
    lost_or_stolen = "lost_or_stolen"
    required_evidence = "required_evidence"
    same_evidence = "same_evidence"
    same_imei = "same_imei"
    same_email = "same_email"
    image_edited = "image_edited"
    contact_confirmed = "contact_confirmed"
    account_used = "account_used"
    label_imei_match = "label_imei_match"
    screenshot = "screenshot"
    receipt_imei = "receipt_imei"
    receipt_date = "receipt_date"
    receipt_date_plausible = "receipt_date_plausible"

    __titles__ = {
        "imei_check_digit": _l("IMEI check digit"), "imei_known": _l("IMEI known to the directory"),
        "account_match": _l("Bound account matches the claimant"), "lost_or_stolen": _l("Lost or stolen flag"),
        "required_evidence": _l("Required evidence"), "same_evidence": _l("Same file in other cases"),
        "same_imei": _l("Same IMEI in other cases"), "same_email": _l("Same contact email in other cases"),
        "image_edited": _l("Signs of image editing"), "contact_confirmed": _l("Contact email confirmed"),
        "account_used": _l("Bound account used since filing"),
        "label_imei_match": _l("Box label or IMEI screen shows the claimed IMEI"),
        "screenshot": _l("Receipt is a screenshot"),
        "receipt_imei": _l("Receipt names the claimed IMEI"), "receipt_date": _l("Receipt date matches the claim"),
        "receipt_date_plausible": _l("Receipt date is plausible"),
    }


class CheckResult(TitledEnum):
    """A check's result; ``partial`` is a pass with a weaker match (``"partial": true``)."""

    passed = "pass"
    partial = "partial"
    warn = "warn"
    fail = "fail"
    pending = "pending"

    __titles__ = {"pass": _l("pass"), "partial": _l("partial pass"), "warn": _l("warning"), "fail": _l("fail"),
                  "pending": _l("analysing…")}


class CaseStatusCount(SQLModel, table=True):
    """How many cases have each status, kept by database triggers (review_1 migration).

    The queue shows counts per status; counting a million rows per page view is what
    makes help desks crawl. Triggers keep it right for every writer, bulk loads included.
    """

    __tablename__ = "case_status_count"

    status: str = Field(primary_key=True, max_length=32)
    count: int = 0


class SavedQueueView(SQLModel, table=True):
    """An agent's named queue view (filters and sort), shown to that agent only."""

    __tablename__ = "saved_queue_view"
    __table_args__ = (UniqueConstraint("agent_id", "name"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    agent_id: int = Field(sa_column=Column(ForeignKey("agent.id", ondelete="CASCADE"), nullable=False, index=True))
    name: str = Field(max_length=60)
    #: the queue's query string (filters and sort, no page cursor)
    query: str = Field(max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)


class CasePresence(SQLModel, table=True):
    """Who has a case page open right now: a heartbeat row per agent and case.

    Rows older than ``PRESENCE_TTL_SECONDS`` mean nothing and are overwritten or swept;
    nothing privileged rests on them, so they are not audited.
    """

    __tablename__ = "case_presence"

    case_id: int = Field(sa_column=Column(ForeignKey("case.id", ondelete="CASCADE"), primary_key=True))
    agent_id: int = Field(sa_column=Column(ForeignKey("agent.id", ondelete="CASCADE"), primary_key=True))
    seen_at: datetime = Field(default_factory=utcnow)
    #: the agent has typed into the reply box since the last heartbeat but one
    writing: bool = False


class EvidenceKind(TitledEnum):
    receipt = "receipt"
    box_photo = "box_photo"
    device_photo = "device_photo"
    imei_screen = "imei_screen"
    sim_proof = "sim_proof"
    id_document = "id_document"
    other = "other"

    __titles__ = {"receipt": _l("Purchase receipt"), "box_photo": _l("Photo of the box label"),
                  "device_photo": _l("Photo of the device"), "imei_screen": _l("Photo of the IMEI screen"),
                  "sim_proof": _l("Proof of owning the SIM"), "id_document": _l("Identity document"),
                  "other": _l("Other")}


class AnalysisStatus(TitledEnum):
    pending = "pending"
    done = "done"
    failed = "failed"

    __titles__ = {"pending": _l("analysing…"), "done": _l("analysed"), "failed": _l("analysis failed")}


class Verdict(TitledEnum):
    """An agent's judgement of one evidence file."""

    accepted = "accepted"
    needs_upload = "needs_upload"

    __titles__ = {"accepted": _l("Accepted"), "needs_upload": _l("Needs a new upload")}


class VerdictReason(TitledEnum):
    """Why a file needs a new upload (the claimant reads it, in their language)."""

    unreadable = "unreadable"
    imei_not_visible = "imei_not_visible"
    wrong_document = "wrong_document"
    edited = "edited"
    expired_or_name = "expired_or_name"
    other = "other"

    __titles__ = {
        "unreadable": _l("The file is unreadable"), "imei_not_visible": _l("The IMEI is not visible"),
        "wrong_document": _l("This is not the document we asked for"),
        "edited": _l("The file looks edited or altered"),
        "expired_or_name": _l("The document is expired or does not match your name"),
        "other": _l("Another reason (see the note)"),
    }


class Evidence(SQLModel, table=True):
    """One uploaded file, judged by its bytes. Files live in storage under their SHA-256."""

    #: when the claimant last uploaded on a case, index-only (the "claimant replied" marker)
    __table_args__ = (Index("ix_evidence_case_uploader_at", "case_id", "uploaded_by", "created_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    kind: EvidenceKind = Field(sa_type=stored(EvidenceKind))
    #: SHA-256 of the original bytes as uploaded (kept apart, never served inline)
    sha256: str = Field(index=True, max_length=64)
    #: SHA-256 of the re-encoded copy agents view (None for PDFs: the original is the copy)
    viewable_sha256: Optional[str] = Field(default=None, max_length=64)
    thumbnail_sha256: Optional[str] = Field(default=None, max_length=64)
    #: SHA-256 of the JPEG printed in case reports, sized at upload (None for files stored before print copies)
    print_sha256: Optional[str] = Field(default=None, max_length=64)
    media_type: str = Field(max_length=64)
    size: int
    width: Optional[int] = None
    height: Optional[int] = None
    #: the claimant's file name, for display only
    original_name: str = Field(default="", max_length=255)
    phash: Optional[str] = Field(default=None, max_length=16)
    exif: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    extracted: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    #: the text the analysis read (a receipt's PDF text layer or OCR), for full-text search (search_1
    #: migration: the database indexes it, and forgets it when it is blanked)
    read_text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    uploaded_by: str = Field(default="claimant", max_length=40)
    created_at: datetime = Field(default_factory=utcnow)
    #: where the background analysis stands (None: stored before analysis existed)
    analysis_status: Optional[AnalysisStatus] = Field(default=None, sa_type=stored(AnalysisStatus))
    analysed_at: Optional[datetime] = None
    #: a picture with no camera metadata at a screen's exact pixel size (None: not analysed, or a PDF)
    is_screenshot: Optional[bool] = None
    #: the reviewing agent's verdict on this file (None: not reviewed yet); history is in the audit trail
    verdict: Optional[Verdict] = Field(default=None, sa_type=stored(Verdict))
    #: why a new upload is needed (``VerdictReason``), with the agent's own words in ``verdict_note``
    verdict_reason: Optional[VerdictReason] = Field(default=None, sa_type=stored(VerdictReason))
    verdict_note: Optional[str] = Field(default=None, sa_column=Column(Text))
    #: the agent who set it (no foreign key: see the verdicts_1 migration)
    verdict_by_id: Optional[int] = None
    verdict_at: Optional[datetime] = None
    #: the claimant's newer upload that answers a "needs a new upload" verdict on this one
    replaced_by_id: Optional[int] = None


class ExtractedKind(TitledEnum):
    imei = "imei"
    serial = "serial"
    date = "date"
    shop = "shop"
    model = "model"
    total = "total"
    barcode = "barcode"

    __titles__ = {"imei": _l("IMEI"), "serial": _l("Serial number"), "date": _l("Date"), "shop": _l("Shop"),
                  "model": _l("Model"), "total": _l("Total"), "barcode": _l("Barcode")}


class ExtractedSource(TitledEnum):
    barcode = "barcode"
    ocr = "ocr"
    pdf_text = "pdf_text"
    #: a value an agent added because the reader missed it (``review.corrections.add_imei``)
    agent = "agent"

    __titles__ = {"barcode": _l("barcode"), "ocr": _l("text recognition"), "pdf_text": _l("PDF text"),
                  "agent": _l("added by an agent")}


class ExtractedValue(SQLModel, table=True):
    """One value the analysis read from an evidence file, and an agent's correction of it.

    ``value`` is normalised (an IMEI as 15 digits, a date as ``YYYY-MM-DD``, a total as
    ``"123.45 RUB"``); ``raw`` is the text as read. ``box`` is ``[x0, y0, x1, y1]`` in the
    pixels of the stored viewable image (or of the PDF page ``page``). A re-analysis
    replaces the values nobody corrected; a corrected one is kept.
    """

    __tablename__ = "extracted_value"

    id: Optional[int] = Field(default=None, primary_key=True)
    evidence_id: int = Field(foreign_key="evidence.id", index=True)
    kind: ExtractedKind = Field(sa_type=stored(ExtractedKind))
    value: str = Field(max_length=255)
    raw: str = Field(default="", sa_column=Column(Text, nullable=False))
    source: ExtractedSource = Field(sa_type=stored(ExtractedSource))
    box: Optional[list] = Field(default=None, sa_column=Column(JSON, nullable=True))
    page: Optional[int] = None
    confidence: Optional[float] = None
    corrected_value: Optional[str] = Field(default=None, max_length=255)
    corrected_by_id: Optional[int] = Field(default=None, foreign_key="agent.id")
    corrected_at: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def current(self) -> str:
        """What the checks and pages use: the agent's correction, else what was read."""
        return self.corrected_value if self.corrected_value is not None else self.value


class PictureHashChunk(SQLModel, table=True):
    """One 16-bit quarter of a picture's perceptual hash (``Evidence.phash``): the index
    ``near_duplicates`` looks pictures up by. Written with its evidence row, removed with it."""

    __tablename__ = "picture_hash_chunk"
    __table_args__ = (Index("ix_picture_hash_chunk_value", "chunk_no", "chunk_value"),)

    evidence_id: int = Field(sa_column=Column(ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True))
    #: 0 for the hash's most significant 16 bits ... 3 for its least
    chunk_no: int = Field(primary_key=True)
    chunk_value: int


class MessageVisibility(TitledEnum):
    public = "public"
    internal = "internal"

    __titles__ = {"public": _l("Public reply"), "internal": _l("Internal note")}


class Message(SQLModel, table=True):
    """A public message (the claimant sees it) or an internal note."""

    #: when each kind of author last wrote on a case, index-only (the "claimant replied" marker)
    __table_args__ = (Index("ix_message_case_author_at", "case_id", "author_type", "created_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    visibility: MessageVisibility = Field(default=MessageVisibility.public, sa_type=stored(MessageVisibility))
    #: "claimant", "agent" or "system"
    author_type: str = Field(max_length=20)
    author_agent_id: Optional[int] = Field(default=None, foreign_key="agent.id")
    body: str = Field(sa_column=Column(Text, nullable=False))
    #: per-evidence-kind reasons when the message requests more information
    requested: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class RequestedItemKind(StrEnum):
    upload = "upload"
    question = "question"


class RequestedItemStatus(TitledEnum):
    open = "open"
    answered = "answered"
    #: the request ended without this answer (the case was closed while waiting)
    cancelled = "cancelled"

    __titles__ = {"open": _l("Not answered yet"), "answered": _l("Answered"), "cancelled": _l("Cancelled")}


class RequestedItem(SQLModel, table=True):
    """One line of a request for more information: a file to upload or a question to answer.

    The case waits on the claimant until every open item of the request is answered.
    """

    __tablename__ = "requested_item"

    id: Optional[int] = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    #: the request message that asked for it
    message_id: int = Field(foreign_key="message.id", index=True)
    kind: RequestedItemKind = Field(sa_type=stored(RequestedItemKind))
    status: RequestedItemStatus = Field(default=RequestedItemStatus.open, sa_type=stored(RequestedItemStatus))
    #: the kind of file asked for (uploads only)
    evidence_kind: Optional[EvidenceKind] = Field(default=None, sa_type=stored(EvidenceKind))
    #: the file judged "needs a new upload" that this item replaces
    evidence_id: Optional[int] = Field(default=None, foreign_key="evidence.id")
    reason: Optional[VerdictReason] = Field(default=None, sa_type=stored(VerdictReason))
    #: the agent's words: why the file is needed, or the question
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    answer_evidence_id: Optional[int] = Field(default=None, foreign_key="evidence.id")
    answer_text: Optional[str] = Field(default=None, sa_column=Column(Text))
    answered_at: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)


class CannedReply(SQLModel, table=True):
    """A ready-made public reply for a common request, per language."""

    __table_args__ = (UniqueConstraint("key", "language"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    key: str = Field(max_length=60)
    language: str = Field(max_length=8)
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))


# -- privileged actions -----------------------------------------------------------------


class ActionKind(TitledEnum):
    unlock_account = "unlock_account"
    replace_contact = "replace_contact"
    force_unbind = "force_unbind"

    __titles__ = {"unlock_account": _l("Unlock account"), "replace_contact": _l("Replace recovery contact"),
                  "force_unbind": _l("Force-unbind device")}


class ActionStatus(TitledEnum):
    pending_approval = "pending_approval"
    scheduled = "scheduled"
    executed = "executed"
    cancelled = "cancelled"

    __titles__ = {"pending_approval": _l("Pending approval"), "scheduled": _l("Scheduled"), "executed": _l("Executed"),
                  "cancelled": _l("Cancelled")}


class Action(SQLModel, table=True):
    """A privileged change requested by an agent; executed at most once."""

    @declared_attr
    def __mapper_args__(cls) -> dict:  # a stale write can never execute an action twice
        return {"version_id_col": cls.__table__.c.version}

    id: Optional[int] = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    kind: ActionKind = Field(sa_type=stored(ActionKind))
    status: ActionStatus = Field(default=ActionStatus.pending_approval, index=True, sa_type=stored(ActionStatus))
    version: int = Field(default=1)
    target_account_id: Optional[int] = Field(default=None, sa_column=Column(BigInteger))
    target_device_id: Optional[int] = Field(default=None, foreign_key="device.id")
    #: digest of the case's evidence and checks when requested; a change voids approval
    evidence_digest: Optional[str] = Field(default=None, max_length=64)
    requested_by_id: int = Field(foreign_key="agent.id")
    requested_at: datetime = Field(default_factory=utcnow)
    approved_by_id: Optional[int] = Field(default=None, foreign_key="agent.id")
    approved_at: Optional[datetime] = None
    #: earliest execution time (cooling-off)
    not_before: Optional[datetime] = Field(default=None, index=True)
    executed_by_id: Optional[int] = Field(default=None, foreign_key="agent.id")
    executed_at: Optional[datetime] = None
    #: when the requester, the approver and the executing agent each passed step-up (TOTP);
    #: run-due executes only what was requested (and approved) with step-up
    requested_with_step_up_at: Optional[datetime] = None
    approved_with_step_up_at: Optional[datetime] = None
    executed_with_step_up_at: Optional[datetime] = None
    cancelled_at: Optional[datetime] = None
    cancel_reason: Optional[str] = Field(default=None, sa_column=Column(Text))
    #: SHA-256 of the "this was not me" token sent to the old contacts
    objection_token_hash: Optional[str] = Field(default=None, max_length=64, index=True)
    #: when that token was used: a second press of "this was not me" changes nothing
    objected_at: Optional[datetime] = None
    #: the approver who acknowledged that the account has no contact to notify ("no one can be told")
    no_contact_ack_by_id: Optional[int] = Field(default=None, foreign_key="agent.id")

    def snapshot(self) -> dict:
        """What an audit event records of the action."""
        return {"status": self.status.value, "kind": self.kind.value, "version": self.version,
                "target_account_id": self.target_account_id, "target_device_id": self.target_device_id,
                "not_before": self.not_before, "no_contact_ack_by_id": self.no_contact_ack_by_id}


# -- outgoing mail ------------------------------------------------------------------------


class Channel(TitledEnum):
    email = "email"
    sms = "sms"

    __titles__ = {"email": _l("email"), "sms": _l("SMS")}


class OutgoingMessage(SQLModel, table=True):
    """An email or SMS queued in the transaction that caused it; deleted once delivered.

    It exists only if that transaction committed, so nobody hears of a rolled-back change,
    and it stays until delivery succeeds, so nothing is lost while the mail server is down.
    """

    __tablename__ = "outgoing_message"
    __table_args__ = (Index("ix_outgoing_message_due", "next_attempt_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    channel: Channel = Field(sa_type=stored(Channel))
    recipient: str = Field(max_length=320)
    subject: Optional[str] = Field(default=None, sa_column=Column(Text))
    body: str = Field(sa_column=Column(Text, nullable=False))
    language: str = Field(default="en", max_length=16)
    #: the email's Message-ID, the same on every attempt so a receiver can drop a repeat
    message_id: Optional[str] = Field(default=None, max_length=255)
    queued_at: datetime = Field(default_factory=utcnow)
    #: earliest next attempt: the queueing time, then later after each failure (backoff)
    next_attempt_at: datetime = Field(default_factory=utcnow)
    #: a deliverer is sending it until then; after that another may try (it crashed)
    sending_until: Optional[datetime] = None
    attempts: int = Field(default=0)
    last_error: Optional[str] = Field(default=None, sa_column=Column(Text))


# -- the audit trail --------------------------------------------------------------------


class ActorType(TitledEnum):
    """Who did something: an audit event's ``actor_type``, a message's ``author_type``."""

    claimant = "claimant"
    agent = "agent"
    account = "account"
    system = "system"
    cli = "cli"
    anonymous = "anonymous"

    __titles__ = {"claimant": _l("Claimant"), "agent": _l("Agent"), "account": _l("Account service"),
                  "system": _l("System"), "cli": _l("Command line"), "anonymous": _l("Someone not signed in")}


class SubjectType(TitledEnum):
    """What an audit event happened to (``AuditEvent.subject_type``)."""

    account = "account"
    device = "device"
    case = "case"
    agent = "agent"
    action = "action"
    evidence = "evidence"
    message = "message"
    canned_reply = "canned_reply"
    job = "job"

    __titles__ = {"account": _l("account"), "device": _l("device"), "case": _l("case"), "agent": _l("agent"),
                  "action": _l("action"), "evidence": _l("file"), "message": _l("message"),
                  "canned_reply": _l("canned reply"), "job": _l("job")}


class AuditEvent(SQLModel, table=True):
    """One append-only, hash-chained event. Triggers refuse UPDATE and DELETE."""

    __tablename__ = "audit_event"

    #: position in the chain, 1-based, gap-free
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    #: UTC time of the event
    at: datetime
    #: "agent", "claimant", "account", "system" or "cli"
    actor_type: str = Field(max_length=20)
    #: agent id, case number, account id ... as text; None for the system
    actor_id: Optional[str] = Field(default=None, max_length=64, index=True)
    #: the actor's display name when the event was written
    actor_name: Optional[str] = Field(default=None, max_length=200)
    #: what happened, dotted: "account.locked", "case.transition", "evidence.downloaded"
    action: str = Field(max_length=64, index=True)
    #: what it happened to: "account", "device", "case", "agent", "action", "evidence"
    subject_type: Optional[str] = Field(default=None, max_length=20)
    subject_id: Optional[str] = Field(default=None, max_length=64, index=True)
    #: the case this event belongs to, for per-case timelines
    case_number: Optional[str] = Field(default=None, max_length=20, index=True)
    #: state before and after, as JSON
    before: Optional[dict] = Field(default=None, sa_column=Column(JSON))
    after: Optional[dict] = Field(default=None, sa_column=Column(JSON))
    #: why, in the actor's words
    reason: Optional[str] = Field(default=None, sa_column=Column(Text))
    #: request origin
    ip: Optional[str] = Field(default=None, max_length=64)
    user_agent: Optional[str] = Field(default=None, max_length=400)
    request_id: Optional[str] = Field(default=None, max_length=64)
    #: the canonical JSON text the hash covers, stored exactly as hashed
    canonical: str = Field(sa_column=Column(Text, nullable=False))
    #: hash of the previous event ("0" * 64 for the first); unique, so the chain cannot fork
    prev_hash: str = Field(max_length=64, unique=True)
    #: SHA-256 of canonical + prev_hash
    hash: str = Field(max_length=64, unique=True)


class AuditCheckpoint(SQLModel, table=True):
    """A signed statement "the chain had this head at this sequence", to catch rewrites."""

    __tablename__ = "audit_checkpoint"

    id: Optional[int] = Field(default=None, primary_key=True)
    #: sequence number of the head event when signed
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    #: hash of that event
    head_hash: str = Field(max_length=64)
    #: UTC time of signing
    at: datetime
    #: Ed25519 signature (hex) over "seq|head_hash|at-isoformat"
    signature: str = Field(max_length=128)
    #: the public key (hex) that verifies it
    public_key: str = Field(max_length=64)


class PersonalValue(SQLModel, table=True):
    """A personal value the audit trail names only by its keyed fingerprint (``support/personal.py``).

    Hashed audit text carries ``pv:<fingerprint>``; the value lives here, bound to its data
    subject, so erasing the subject removes the value and leaves every hash intact.
    """

    __tablename__ = "personal_value"
    __table_args__ = (UniqueConstraint("subject", "fingerprint", name="uq_personal_value_subject_fingerprint"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    #: whose value it is: a case number for claimant data, "account:<id>" for an account holder
    subject: str = Field(max_length=40, index=True)
    #: keyed HMAC-SHA256 of the value (hex, first 128 bits), as written in the audit text
    fingerprint: str = Field(max_length=32, index=True)
    #: the value itself; None once erased
    value: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    #: UTC time the subject's values were erased (None while the value is kept)
    erased_at: Optional[datetime] = None


class AuditConversion(SQLModel, table=True):
    """A signed statement binding the chain's head before a rewrite of its text to the head after it.

    The conversion that moved personal values out of the audit text changed every hash;
    checkpoints and witness lines signed before it are verified against the former hashes
    (``AuditFormerHash``), which this signature binds to the new ones.
    """

    __tablename__ = "audit_conversion"

    id: Optional[int] = Field(default=None, primary_key=True)
    #: what was converted: "personal_values"
    kind: str = Field(max_length=40)
    #: the head's sequence number when converted (every event up to it was rewritten)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    #: the head's hash before and after the conversion
    old_head_hash: str = Field(max_length=64)
    new_head_hash: str = Field(max_length=64)
    #: SHA-256 over every "seq:old-hash:new-hash" line, in order
    hashes_digest: str = Field(max_length=64)
    #: UTC time of the conversion
    at: datetime
    #: Ed25519 signature (hex) of the statement, and the public key that verifies it
    signature: str = Field(max_length=128)
    public_key: str = Field(max_length=64)


class AuditFormerHash(SQLModel, table=True):
    """An event's hash before a conversion rewrote its text (what earlier checkpoints signed)."""

    __tablename__ = "audit_former_hash"

    #: the event's sequence number
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    #: the conversion that rewrote it
    conversion_id: int = Field(foreign_key="audit_conversion.id")
    #: its hash before the conversion
    hash: str = Field(max_length=64)


class AuditVerification(SQLModel, table=True):
    """The outcome of one verification of the whole chain; /audit shows the newest."""

    __tablename__ = "audit_verification"

    id: Optional[int] = Field(default=None, primary_key=True)
    #: UTC time the verification finished
    at: datetime
    #: True when every event and checkpoint checked out
    ok: bool
    #: events found sound, counted from 1 (the head's sequence number when ``ok``)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    #: hash of the last sound event
    head_hash: str = Field(max_length=64)
    #: the first bad sequence number, when not ``ok``
    bad_seq: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    #: what is wrong there, when not ``ok``
    problem: Optional[str] = Field(default=None, max_length=300)
    #: who ran it: "worker" (the scheduled job) or "cli"
    by: str = Field(max_length=20)


# -- background jobs ------------------------------------------------------------------------


class JobState(TitledEnum):
    queued = "queued"
    running = "running"
    #: it failed and the engine will try again after a pause
    retrying = "retrying"
    #: it failed for the last time: an admin retries it (the work is kept in ``name``/``args``)
    failed = "failed"
    done = "done"
    #: another worker was running the same periodic task
    skipped = "skipped"

    __titles__ = {"queued": _l("queued"), "running": _l("running"), "retrying": _l("retrying"), "failed": _l("failed"),
                  "done": _l("done"), "skipped": _l("skipped")}


class JobRun(SQLModel, table=True):
    """The history of one background job, which the queue itself keeps only briefly.

    Written in the enqueuing transaction (``jobs.enqueue_after_commit``) or, for periodic
    tasks, when the scheduler enqueues them; then updated by the worker's signals. ``name``
    and ``args`` are enough to run the job again, so a failure never loses its work.
    """

    __tablename__ = "job_run"
    __table_args__ = (Index("ix_job_run_state_queued", "state", "queued_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    #: the queue's id of the job; a retry reuses it
    task_id: str = Field(max_length=64, unique=True)
    #: the registered task (``module.function``)
    name: str = Field(max_length=200)
    args: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    periodic: bool = False
    state: JobState = Field(default=JobState.queued, sa_type=stored(JobState))
    attempts: int = 0
    #: the last failure, kept after a successful retry is recorded as done
    error: Optional[str] = Field(default=None, sa_column=Column(Text))
    queued_at: datetime = Field(default_factory=utcnow)
    started_at: Optional[datetime] = None
    #: while it runs, the last time its worker said so (``jobs.heartbeat``)
    alive_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None
