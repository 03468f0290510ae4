"""Automatic checks of a case and the risk score they feed.

Each check answers pass / warn / fail with one line of why and, for look-alikes, the
other case numbers:

=================== ======================================================== ===========
code                fails when / warns when                                   weight w/f
=================== ======================================================== ===========
imei_check_digit    an IMEI's Luhn check digit is wrong (fail)                    - / 25
imei_known          the directory does not know the IMEI (fail for an unbind,  10 / 20
                    warn otherwise)
account_match       the device is bound to an account a hint contradicts and   10 / 30
                    none matches (fail); nothing to compare, or hints too
                    short to tell (warn); a partial match passes for 5 points
lost_or_stolen      the device is flagged lost or stolen (fail for an unbind,  15 / 50
                    warn otherwise)
required_evidence   none of evidence.REQUIRED for the kind (fail), some (warn)     10 / 20
same_evidence       an evidence file (SHA-256) is in another case, or a near-      - / 40
                    duplicate picture of a receipt, box photo or ID document
                    (``near_duplicates``: perceptual hash within 3 bits) (fail)
same_imei           another case names the same IMEI (warn)                     15 / -
same_email          another case uses the same contact email (warn)             10 / -
image_edited        an image's EXIF names editing software, or it was "taken"     - / 30
                    after it was uploaded (fail)
contact_confirmed   the contact email is not confirmed yet (warn)                5 / -
account_used        the bound account was signed in to after the case was       15 / -
                    filed (warn: its owner may still have it)
label_imei_match    a box label or IMEI screen carries IMEIs and none is       10 / 40
                    claimed (fail); none of their IMEIs could be read (warn)
screenshot          a receipt picture is a screenshot (warn: paper receipts    10 / -
                    are photographed)
receipt_imei        a receipt names another IMEI, or (naming no IMEI) another  10 / 40
                    serial (fail); no receipt names either (warn)
receipt_date        the receipt's date is more than RECEIPT_DATE_DAYS from     10 / 20
                    the claimed purchase date (fail); no date read, or no
                    purchase date claimed (warn)
receipt_date_plausible  the receipt is dated after its upload, or before the    0 / 30
                    device's model went on sale (``device_models``) (fail)
=================== ======================================================== ===========

``label_imei_match``, ``screenshot`` and the ``receipt_*`` checks read what the background analysis found
(``ExtractedValue``, ``Evidence.is_screenshot``; an agent's correction counts instead of
the value read). A receipt's date is, of the dates read on it, the one nearest the
claimed purchase date (a receipt may also print a warranty's end). While a file they need is still being analysed their result is
``pending`` ("analysing…", no points); the analysis re-runs the checks when it finishes.

Each result keeps its line in English (``detail``, for the API and logs) and as the
message and arguments it was made from (``message``, ``args``), so pages and reports
show it in their reader's language (``check_details.check_detail``).

Hints are compared by ``hints`` (whole values, masked fragments, last digits): a whole
value that matches passes; a fragment that fits is a weaker pass (``"partial": true`` in
the result, ``PARTIAL_PASS_POINTS``).

The risk score is the sum of the points of each result (``points``), capped at 100.
``digest`` fingerprints the evidence and the check results, so an approval given on one
picture of the case is void once that picture changes.

Checks are always current: ``recheck`` is called whenever something they read changes (the
case filed, its contact confirmed, evidence added, the case reopened; a directory change to
its device or account, ``recheck_device`` / ``recheck_account``). It re-runs the case's
checks, voids at once any pending or scheduled action whose digest no longer matches
(``void_if_stale``, audited ``action.voided``), then re-runs every other case named in the
``links`` of its old and new results, so two cases sharing a file, a picture, an IMEI or
an email name each other, and a case that stops sharing drops the link. One level only: at
most ``MAX_LINKS`` per linking check, old and new, each a few indexed queries, so the write
stays short (past ``MAX_LINKS`` sharers an older case's list of links may lag behind; its
result does not, it already fails or warns). A change elsewhere (another case, the directory) re-runs only the cases still
being worked (``RECHECKED``); a rejected, executed or closed case keeps the results it was
decided on until it is reopened. A case's own change always re-runs its own checks.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta, timezone

from sqlalchemy.orm import object_session
from sqlmodel import Session, or_, select

from . import audit, hints
from .device_models import released
from .directory import directory, normalise_email
from .evidence import near_duplicates
from .evidence.rules import REQUIRED, missing_evidence
from .imei import is_valid
from .models import (Account, Action, ActionStatus, AnalysisStatus, Case, CaseKind, CaseStatus, Device, Evidence,
                     EvidenceKind, ExtractedKind, ExtractedValue, utcnow)

PASS, WARN, FAIL = "pass", "warn", "fail"
#: a check waiting for the background analysis of a file (no points)
PENDING = "pending"
#: code -> (points for warn, points for fail)
WEIGHTS: dict[str, tuple[int, int]] = {
    "imei_check_digit": (0, 25),
    "imei_known": (10, 20),
    "account_match": (10, 30),
    "lost_or_stolen": (15, 50),
    "required_evidence": (10, 20),
    "same_evidence": (0, 40),
    "same_imei": (15, 0),
    "same_email": (10, 0),
    "image_edited": (0, 30),
    "contact_confirmed": (5, 0),
    "account_used": (15, 0),
    "label_imei_match": (10, 40),
    "screenshot": (10, 0),
    "receipt_imei": (10, 40),
    "receipt_date": (10, 20),
    "receipt_date_plausible": (0, 30),
}
#: code -> points for a pass on partial evidence (fewer than for a warn)
PARTIAL_PASS_POINTS: dict[str, int] = {"account_match": 5}
#: lower-case fragments of EXIF "Software" values that mean the picture was edited
EDITING_SOFTWARE = ("photoshop", "gimp", "lightroom", "snapseed", "picsart", "pixlr", "canva",
                    "affinity", "facetune", "paint.net", "pixelmator", "krita", "photopea")
MAX_LINKS = 10
#: statuses whose checks follow changes made elsewhere; the others keep what they were decided on
RECHECKED = (CaseStatus.submitted, CaseStatus.new, CaseStatus.in_review, CaseStatus.waiting_on_claimant,
             CaseStatus.approved)
#: actions a change of the results voids
OPEN_ACTIONS = (ActionStatus.pending_approval, ActionStatus.scheduled)
VOID_REASON = "the evidence or checks of the case changed after the request"


def N_(message: str) -> str:
    """Marks a message for the catalogs; it is translated where it is shown."""
    return message


def _result(code: str, result: str, message: str, links: list[str] | None = None, **args) -> dict:
    """One check's answer. ``args`` are plain values (lists of evidence kinds or hint names
    are joined for the English line and translated item by item where shown)."""
    detail = message % {key: _english(value) for key, value in args.items()}
    return {"code": code, "result": result, "detail": detail, "message": message, "args": args, "links": links or []}


def _english(value) -> str:
    """An argument as the English line shows it: kinds in a requirement joined by "or",
    requirements and hints by commas."""
    if isinstance(value, list):
        return ", ".join(" or ".join(item) if isinstance(item, list) else str(item) for item in value)
    return str(value)


def refresh(session: Session, case: Case, config: dict) -> None:
    """Recompute ``case.checks`` and ``case.risk_score``; flushes, never commits. Unchanged
    results leave the row alone, so a re-check never makes an agent's open page stale."""
    evidence = list(session.exec(select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id)))
    accounts = directory(session, config)
    device = accounts.find_device(case.imei1) or (accounts.find_device(case.imei2) if case.imei2 else None)
    account = accounts.get_account(device.account_id) if device and device.account_id else None
    results = [
        _imei_check_digit(case),
        _imei_known(case, device),
        _account_match(case, device, account),
        _lost_or_stolen(case, device),
        _required_evidence(case, evidence),
        _same_evidence(session, case, evidence),
        _same_imei(session, case),
        _same_email(session, case),
        _image_edited(evidence),
        _contact_confirmed(case),
        _account_used(case, account),
        _label_imei_match(case, evidence, _imeis_read(session, evidence)),
        _screenshot(evidence),
        *_receipt_checks(case, device, evidence, _receipt_values(session, evidence)),
    ]
    if results != case.checks or risk_score(results) != case.risk_score:
        case.checks, case.risk_score = results, risk_score(results)
        session.add(case)
    session.flush()


def recheck(session: Session, case: Case, config: dict, origin: audit.Origin | None = None) -> None:
    """Re-run the case's checks after a change they read, void what the change made stale, and
    re-run the cases its old and new results link to (one level, see the module docstring).
    A case whose data was erased has nothing left to check."""
    if case.erased_at is not None:
        return
    linked = _linked(case.checks)
    _rerun(session, case, config, origin)
    numbers = (linked | _linked(case.checks)) - {case.number}
    others = session.exec(select(Case).where(Case.number.in_(sorted(numbers)), Case.status.in_(RECHECKED))
                          .order_by(Case.id)) if numbers else []
    for other in others:
        _rerun(session, other, config, origin)


def recheck_device(session: Session, device: Device, config: dict, origin: audit.Origin | None = None) -> list[str]:
    """After a directory change to the device: re-check every case still being worked that
    names one of its IMEIs; returns their numbers."""
    imeis = [imei for imei in (device.imei1, device.imei2) if imei]
    naming = select(Case).where(or_(Case.imei1.in_(imeis), Case.imei2.in_(imeis)), Case.status.in_(RECHECKED))
    rechecked = []
    for case in session.exec(naming.order_by(Case.id)).all():
        recheck(session, case, config, origin)
        rechecked.append(case.number)
    return rechecked


def recheck_account(session: Session, account: Account, config: dict,
                    origin: audit.Origin | None = None) -> list[str]:
    """After a directory change to the account (contacts, a sign-in): re-check the cases about
    the devices bound to it."""
    devices = directory(session, config).devices_of(account.id)
    return [number for device in devices for number in recheck_device(session, device, config, origin)]


def _linked(results: list[dict] | None) -> set[str]:
    return {number for check in results or [] for number in check.get("links") or []}


def _rerun(session: Session, case: Case, config: dict, origin: audit.Origin | None) -> None:
    refresh(session, case, config)
    for action in session.exec(select(Action).where(Action.case_id == case.id, Action.status.in_(OPEN_ACTIONS))).all():
        void_if_stale(session, action, case, origin)


def void_if_stale(session: Session, action: Action, case: Case, origin: audit.Origin | None = None) -> bool:
    """Cancel the action when the case's evidence or checks changed since it was requested
    (``action.voided``, in the caller's transaction); False when it still stands."""
    if digest(case, session) == action.evidence_digest:
        return False
    before = action.snapshot()
    action.status, action.cancelled_at, action.cancel_reason = ActionStatus.cancelled, utcnow(), VOID_REASON
    session.add(action)
    session.flush()
    audit.record(session, actor=audit.SYSTEM, action="action.voided", subject=("action", action.id),
                 case_number=case.number, before=before, after=action.snapshot(), reason=VOID_REASON, origin=origin)
    return True


#: failures no approval can outweigh: the agent may reject the case or send it to a supervisor
BLOCKING = frozenset({"lost_or_stolen"})


def blocking(checks: list[dict]) -> list[dict]:
    """The failed checks that forbid approving the case."""
    return [check for check in checks or [] if check["code"] in BLOCKING and check["result"] == FAIL]


def risk_score(checks: list[dict]) -> int:
    """Sum of the points of every result, capped at 100."""
    return min(sum(points(check) for check in checks), 100)


def points(check: dict) -> int:
    """The risk one result adds: its weight for a warn or a fail, a few points for a partial pass."""
    if check["result"] == PASS:
        return PARTIAL_PASS_POINTS.get(check["code"], 0) if check.get("partial") else 0
    warn, fail = WEIGHTS.get(check["code"], (0, 0))
    return {WARN: warn, FAIL: fail}.get(check["result"], 0)


def digest(case: Case, session: Session | None = None) -> str:
    """SHA-256 over the case's evidence hashes and its check results."""
    session = session or object_session(case)
    hashes = sorted(session.exec(select(Evidence.sha256).where(Evidence.case_id == case.id))) if session else []
    results = sorted([check["code"], check["result"], *(["partial"] if check.get("partial") else [])]
                     for check in case.checks or [])
    return hashlib.sha256(json.dumps({"evidence": hashes, "checks": results}).encode()).hexdigest()


# -- the checks, one function each ------------------------------------------------------


def _imei_check_digit(case: Case) -> dict:
    bad = [value for value in (case.imei1, case.imei2) if value and not is_valid(value)]
    if bad:
        return _result("imei_check_digit", FAIL, N_("check digit wrong in %(imeis)s"), imeis=bad)
    return _result("imei_check_digit", PASS, N_("every IMEI has a valid check digit"))


def _imei_known(case: Case, device: Device | None) -> dict:
    if device is not None and device.model:
        return _result("imei_known", PASS, N_("the directory knows this device (%(model)s)"), model=device.model)
    if device is not None:
        return _result("imei_known", PASS, N_("the directory knows this device (model unknown)"))
    result = FAIL if case.kind == CaseKind.device_unbind else WARN
    return _result("imei_known", result, N_("the directory has no device with this IMEI"))


def _account_match(case: Case, device: Device | None, account: Account | None) -> dict:
    """The strongest answer of the claimant's hints (``hints``): a whole match, a partial one,
    a contradiction; hints too short to tell neither pass nor fail."""
    if device is None or account is None:
        return _result("account_match", WARN, N_("the device is not bound to any account: nothing to compare"))
    if not (case.hint_account_id or case.hint_email or case.hint_phone):
        return _result("account_match", WARN, N_("the claimant remembers nothing of the account"))
    found = hints.compare(case, account)
    full, partial = ([name for name, match in found.items() if match is wanted]
                     for wanted in (hints.Match.full, hints.Match.partial))
    if full:
        return _result("account_match", PASS, N_("bound account %(account)s matches the claimant's %(hints)s"),
                       account=account.id, hints=full)
    if partial:
        weaker = _result("account_match", PASS, N_("bound account %(account)s partly matches the claimant's %(hints)s"),
                         account=account.id, hints=partial)
        return {**weaker, "partial": True}
    if hints.Match.contradicts in found.values():
        return _result("account_match", FAIL, N_("bound account %(account)s matches nothing the claimant remembers"),
                       account=account.id)
    return _result("account_match", WARN,
                   N_("the claimant's hints are not enough to compare with bound account %(account)s"),
                   account=account.id)


def _lost_or_stolen(case: Case, device: Device | None) -> dict:
    if device is None or not device.lost_or_stolen:
        return _result("lost_or_stolen", PASS, N_("the device is not flagged lost or stolen"))
    result = FAIL if case.kind == CaseKind.device_unbind else WARN
    return _result("lost_or_stolen", result, N_("the device is flagged lost or stolen"))


def _required_evidence(case: Case, evidence: list[Evidence]) -> dict:
    """The requirements of ``evidence.REQUIRED`` (one kind of each set) for the case's kind."""
    missing = missing_evidence(case.kind, [item.kind for item in evidence])
    if not missing:
        return _result("required_evidence", PASS, N_("all required evidence is present"))
    result = FAIL if len(missing) == len(REQUIRED[case.kind]) else WARN
    return _result("required_evidence", result, N_("missing: %(kinds)s"),
                   kinds=[sorted(kind.value for kind in needed) for needed in missing])


def _other_cases(session: Session, case: Case, condition) -> list[str]:
    numbers = session.exec(select(Case.number).where(condition, Case.id != case.id)
                           .order_by(Case.id.desc()).limit(MAX_LINKS))
    return [number for number in numbers if number]


def _same_evidence(session: Session, case: Case, evidence: list[Evidence]) -> dict:
    """The same file (SHA-256) or a near-duplicate picture (``near_duplicates``) in another case."""
    hashes = sorted({item.sha256 for item in evidence})
    if not hashes:
        return _result("same_evidence", PASS, N_("no evidence to compare yet"))
    in_other = select(Evidence.case_id).where(Evidence.sha256.in_(hashes), Evidence.case_id != case.id)
    same_file = _other_cases(session, case, Case.id.in_(in_other))
    alike = sorted(near_duplicates.other_cases(session, case, evidence))
    near = [number for number in _other_cases(session, case, Case.id.in_(alike)) if number not in same_file] if alike else []
    links = (same_file + near)[:MAX_LINKS]
    if same_file:
        return _result("same_evidence", FAIL, N_("the same file was uploaded to another case"), links)
    if near:
        return _result("same_evidence", FAIL, N_("a near-duplicate picture was uploaded to another case"), links)
    return _result("same_evidence", PASS, N_("no file appears in another case"))


def _same_imei(session: Session, case: Case) -> dict:
    imeis = [value for value in (case.imei1, case.imei2) if value]
    links = _other_cases(session, case, or_(Case.imei1.in_(imeis), Case.imei2.in_(imeis)))
    if links:
        return _result("same_imei", WARN, N_("another case names the same IMEI"), links)
    return _result("same_imei", PASS, N_("no other case names this IMEI"))


def _same_email(session: Session, case: Case) -> dict:
    emails = sorted({case.contact_email, normalise_email(case.contact_email)})
    links = _other_cases(session, case, Case.contact_email.in_(emails))
    if links:
        return _result("same_email", WARN, N_("another case uses the same contact email"), links)
    return _result("same_email", PASS, N_("no other case uses this contact email"))


def _taken_at(value: str | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return _aware(moment) if moment else None


def _image_edited(evidence: list[Evidence]) -> dict:
    for item in evidence:
        software = str((item.exif or {}).get("software") or "")
        if any(name in software.lower() for name in EDITING_SOFTWARE):
            return _result("image_edited", FAIL, N_("%(kind)s #%(evidence)s was saved by %(software)s"),
                           kind=item.kind.value, evidence=item.id, software=software)
        taken_at = _taken_at((item.exif or {}).get("taken_at"))
        if taken_at and taken_at > _aware(item.created_at):
            return _result("image_edited", FAIL, N_("%(kind)s #%(evidence)s claims to be taken after its upload"),
                           kind=item.kind.value, evidence=item.id)
    return _result("image_edited", PASS, N_("no image shows signs of editing"))


def _contact_confirmed(case: Case) -> dict:
    if case.contact_confirmed_at:
        return _result("contact_confirmed", PASS, N_("the contact email is confirmed"))
    return _result("contact_confirmed", WARN, N_("the contact email is not confirmed yet"))


def _account_used(case: Case, account: Account | None) -> dict:
    """The owner still signing in after the case was filed is a sign someone else is claiming it."""
    if account is not None and account.last_sign_in_at and _aware(account.last_sign_in_at) > _aware(case.created_at):
        return _result("account_used", WARN, N_("bound account %(account)s was signed in to after the case was filed"),
                       account=account.id)
    return _result("account_used", PASS, N_("no sign-in to a bound account since the case was filed"))


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
#: the pictures whose IMEIs ``label_imei_match`` compares with the claim
LABEL_KINDS = (EvidenceKind.box_photo, EvidenceKind.imei_screen)
#: a file naming more IMEIs than this (a phone has one or two; a receipt for a few phones
#: may list a handful) ties nothing to one device: its IMEI check warns, never passes
MANY_IMEIS = 4


def _imeis_read(session: Session, evidence: list[Evidence]) -> dict[int, set[str]]:
    """Per evidence id, the IMEIs its analysis read (an agent's correction instead of a misread)."""
    ids = [item.id for item in evidence if item.kind in LABEL_KINDS]
    values = session.exec(select(ExtractedValue).where(ExtractedValue.evidence_id.in_(ids),
                                                       ExtractedValue.kind == ExtractedKind.imei)) if ids else []
    found: dict[int, set[str]] = {}
    for value in values:
        if is_valid(value.current):
            found.setdefault(value.evidence_id, set()).add(value.current)
    return found


def _label_imei_match(case: Case, evidence: list[Evidence], imeis: dict[int, set[str]]) -> dict:
    """A box from another phone fails, whatever else matches; one matching label passes. A
    picture showing more IMEIs than one device has (``MANY_IMEIS``) neither passes nor
    fails: it warns, for an agent to look at."""
    pictures = [item for item in evidence if item.kind in LABEL_KINDS and item.analysis_status is not None]
    if not pictures:  # none, or stored before analysis existed (``flask evidence analyse`` reads those)
        return _result("label_imei_match", PASS, N_("no box label or IMEI screen was read"))
    claimed = {value for value in (case.imei1, case.imei2) if value}
    crowded = [item for item in pictures if len(imeis.get(item.id, set())) > MANY_IMEIS]
    for item in pictures:
        read = imeis.get(item.id, set())
        if read and not read & claimed and item not in crowded:
            return _result("label_imei_match", FAIL, N_("%(kind)s #%(evidence)s shows IMEI %(imeis)s, not the claimed one"),
                           kind=item.kind.value, evidence=item.id, imeis=sorted(read))
    if crowded:
        return _result("label_imei_match", WARN, N_("%(kind)s #%(evidence)s shows %(count)s IMEIs, more than one device has"),
                       kind=crowded[0].kind.value, evidence=crowded[0].id, count=len(imeis[crowded[0].id]))
    for item in pictures:
        if imeis.get(item.id, set()) & claimed:
            return _result("label_imei_match", PASS, N_("%(kind)s #%(evidence)s shows the claimed IMEI"),
                           kind=item.kind.value, evidence=item.id)
    if any(item.analysis_status == AnalysisStatus.pending for item in pictures):
        return _result("label_imei_match", PENDING, N_("analysing…"))
    return _result("label_imei_match", WARN, N_("no IMEI could be read on the box label or IMEI screen"))


def _screenshot(evidence: list[Evidence]) -> dict:
    receipts = [item for item in evidence if item.kind == EvidenceKind.receipt and item.width]
    for item in receipts:
        if item.is_screenshot:
            return _result("screenshot", WARN, N_("%(kind)s #%(evidence)s is a screenshot, not a photo"),
                           kind=item.kind.value, evidence=item.id)
    if any(item.analysis_status == AnalysisStatus.pending for item in receipts):
        return _result("screenshot", PENDING, N_("analysing…"))
    return _result("screenshot", PASS, N_("no receipt picture is a screenshot"))


#: days a receipt's date may lie from the claimed purchase date
RECEIPT_DATE_DAYS = 3
#: days a receipt may be dated after its upload (a shop's time zone can be ahead of UTC)
RECEIPT_AHEAD_DAYS = 1


def _receipt_values(session: Session, evidence: list[Evidence]) -> dict[int, dict[ExtractedKind, list[str]]]:
    """Per receipt, the values its analysis read, by kind in reading order (an agent's
    correction instead of a misread)."""
    ids = [item.id for item in evidence if item.kind == EvidenceKind.receipt]
    rows = session.exec(select(ExtractedValue).where(ExtractedValue.evidence_id.in_(ids))
                        .order_by(ExtractedValue.id)) if ids else []
    found: dict[int, dict[ExtractedKind, list[str]]] = {}
    for row in rows:
        found.setdefault(row.evidence_id, {}).setdefault(row.kind, []).append(row.current)
    return found


def _receipt_checks(case: Case, device: Device | None, evidence: list[Evidence],
                    values: dict[int, dict[ExtractedKind, list[str]]]) -> list[dict]:
    """``receipt_imei``, ``receipt_date`` and ``receipt_date_plausible`` over the analysed receipts."""
    receipts = [item for item in evidence if item.kind == EvidenceKind.receipt and item.analysis_status is not None]
    pending = any(item.analysis_status == AnalysisStatus.pending for item in receipts)
    if not receipts:  # none, or stored before analysis existed (``flask evidence analyse`` reads those)
        return [_result(code, PASS, N_("no receipt was read"))
                for code in ("receipt_imei", "receipt_date", "receipt_date_plausible")]
    dated = {item.id: _receipt_date_of(values.get(item.id, {}), case.purchase_date) for item in receipts}
    model = (device.model if device and device.model else None) or case.model
    return [_receipt_imei(case, receipts, values, pending), _receipt_date(case, receipts, dated, pending),
            _receipt_date_plausible(receipts, dated, model, pending)]


def _serial(value: str | None) -> str:
    return "".join(char for char in (value or "").upper() if char.isalnum())


def _receipt_imei(case: Case, receipts: list[Evidence], values: dict, pending: bool) -> dict:
    """A receipt naming another IMEI (or, naming none, another serial) fails whatever else matches."""
    claimed, serial = {value for value in (case.imei1, case.imei2) if value}, _serial(case.serial)
    named, crowded = [], []
    for item in receipts:
        imeis = {value for value in values.get(item.id, {}).get(ExtractedKind.imei, []) if is_valid(value)}
        serials = {_serial(value) for value in values.get(item.id, {}).get(ExtractedKind.serial, [])} - {""}
        if len(imeis) > MANY_IMEIS:  # a list of phones, or text made to contain the claimed IMEI somewhere
            crowded.append((item, len(imeis)))
            continue
        if imeis and not imeis & claimed:
            return _result("receipt_imei", FAIL, N_("%(kind)s #%(evidence)s names IMEI %(imeis)s, not the claimed one"),
                           kind=item.kind.value, evidence=item.id, imeis=sorted(imeis))
        if not imeis and serial and serials and serial not in serials:
            return _result("receipt_imei", FAIL,
                           N_("%(kind)s #%(evidence)s names serial number %(serials)s, not the claimed one"),
                           kind=item.kind.value, evidence=item.id, serials=sorted(serials))
        if imeis & claimed or (serial and serial in serials):
            named.append(item)
    if crowded:
        item, count = crowded[0]
        return _result("receipt_imei", WARN, N_("%(kind)s #%(evidence)s names %(count)s IMEIs, more than one device has"),
                       kind=item.kind.value, evidence=item.id, count=count)
    if named:
        return _result("receipt_imei", PASS, N_("%(kind)s #%(evidence)s names the claimed IMEI or serial number"),
                       kind=named[0].kind.value, evidence=named[0].id)
    if pending:
        return _result("receipt_imei", PENDING, N_("analysing…"))
    return _result("receipt_imei", WARN, N_("no receipt names an IMEI or serial number"))


def _receipt_date_of(values: dict[ExtractedKind, list[str]], purchase: date | None) -> date | None:
    """The receipt's date: of the dates read, the one nearest the claimed purchase date (a
    receipt may also print a warranty's end), else the first."""
    days = []
    for value in values.get(ExtractedKind.date, []):
        try:
            days.append(date.fromisoformat(value))
        except ValueError:
            continue
    if not days:
        return None
    return min(days, key=lambda day: abs((day - purchase).days)) if purchase else days[0]


def _receipt_date(case: Case, receipts: list[Evidence], dated: dict[int, date | None], pending: bool) -> dict:
    found = [(item, dated[item.id]) for item in receipts if dated[item.id]]
    if not found:
        if pending:
            return _result("receipt_date", PENDING, N_("analysing…"))
        return _result("receipt_date", WARN, N_("no date could be read on the receipt"))
    if case.purchase_date is None:
        return _result("receipt_date", WARN, N_("the claim gives no purchase date to compare with the receipt's"))
    item, day = min(found, key=lambda pair: abs((pair[1] - case.purchase_date).days))
    if abs((day - case.purchase_date).days) <= RECEIPT_DATE_DAYS:
        return _result("receipt_date", PASS, N_("%(kind)s #%(evidence)s is dated %(date)s, as claimed"),
                       kind=item.kind.value, evidence=item.id, date=day.isoformat())
    return _result("receipt_date", FAIL, N_("%(kind)s #%(evidence)s is dated %(date)s; the claimed purchase date is %(claimed)s"),
                   kind=item.kind.value, evidence=item.id, date=day.isoformat(), claimed=case.purchase_date.isoformat())


def _receipt_date_plausible(receipts: list[Evidence], dated: dict[int, date | None], model: str | None,
                            pending: bool) -> dict:
    """Not dated after its upload, nor before the model went on sale (``device_models``)."""
    release = released(model)
    found = [(item, dated[item.id]) for item in receipts if dated[item.id]]
    for item, day in found:
        if day > item.created_at.date() + timedelta(days=RECEIPT_AHEAD_DAYS):
            return _result("receipt_date_plausible", FAIL, N_("%(kind)s #%(evidence)s is dated %(date)s, after it was uploaded"),
                           kind=item.kind.value, evidence=item.id, date=day.isoformat())
        if release and day < release:
            return _result("receipt_date_plausible", FAIL,
                           N_("%(kind)s #%(evidence)s is dated %(date)s, before the %(model)s went on sale (%(released)s)"),
                           kind=item.kind.value, evidence=item.id, date=day.isoformat(), model=model,
                           released=release.isoformat())
    if not found:
        if pending:
            return _result("receipt_date_plausible", PENDING, N_("analysing…"))
        return _result("receipt_date_plausible", WARN, N_("no receipt date to judge"))
    if release:
        return _result("receipt_date_plausible", PASS, N_("the receipt's date is after the %(model)s went on sale and not after the upload"),
                       model=model)
    return _result("receipt_date_plausible", PASS,
                   N_("the receipt is not dated after its upload (when the device's model went on sale is not known)"))
