"""The case report: read the case, render HTML with Jinja, print it to PDF/A-3b with WeasyPrint.

A request or a command reads (``gather``: the internal report, ``content``, or the
claimant's copy, ``claimant``; in a transaction that only reads), renders with no
transaction open (``render``), then records the "report.generated"
audit event in a short write of its own (``record_generated``). The event names the
SHA-256 of the PDF it produced, so any copy of a report can be checked against the
trail, and the head the report printed (``head_seq``: the chain's head when the report
was read).
"""
from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from xml.etree.ElementTree import SubElement, fromstring, tostring

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func
from sqlmodel import Session, select
from weasyprint import CSS, HTML, Attachment
from weasyprint.pdf.metadata import NS, DocumentMetadata
from weasyprint.urls import path2url

from .. import audit
from ..extensions import LANGUAGES
from ..check_details import check_detail
from ..models import AuditEvent, Case, CheckCode, Evidence, Message
from ..refusals import Refused
from ..storage import Storage
from ..evidence import prints
from . import claimant, content
from .fetcher import PREVIEW_SCHEME, ReportFetcher
from ..labels import label
from ..sentences import describe
from . import analysis_words

TEMPLATE = "reports/report.html"
#: the file name of the audit events inside the PDF (``pdfdetach -list`` shows it)
ATTACHMENT_NAME = "audit-events.json"
PDF_VARIANT = "pdf/a-3b"


class ReportTooLarge(Refused):
    """A case with more evidence or messages than one report prints within a request."""

    status = 413


def check_size(session: Session, case: Case, config: dict) -> None:
    """Refuse (``ReportTooLarge``, 413) a case with more than ``REPORT_MAX_EVIDENCE`` evidence
    items or ``REPORT_MAX_MESSAGES`` messages: its report takes longer than a request may.
    The ``report`` command prints it (it holds no lock while rendering)."""
    evidence_count = session.exec(select(func.count()).select_from(Evidence).where(Evidence.case_id == case.id)).one()
    message_count = session.exec(select(func.count()).select_from(Message).where(Message.case_id == case.id)).one()
    if evidence_count > config["REPORT_MAX_EVIDENCE"] or message_count > config["REPORT_MAX_MESSAGES"]:
        raise ReportTooLarge("report_too_large", _(
            "Case %(number)s has %(evidence)s evidence items and %(messages)s messages; a report downloaded here "
            "covers at most %(max_evidence)s items and %(max_messages)s messages. Ask an administrator to run "
            "“flask report %(number)s”.",
            number=case.number, evidence=evidence_count, messages=message_count,
            max_evidence=config["REPORT_MAX_EVIDENCE"], max_messages=config["REPORT_MAX_MESSAGES"]))


def gather(session: Session, case: Case, *, language: str, for_claimant: bool, generated_by: audit.Actor,
           config: dict) -> content.ReportData | claimant.ClaimantCopy:
    """Read the internal report of ``case`` or, ``for_claimant``, the claimant's own copy.

    Refuses a language the app does not speak (ValueError).
    """
    if for_claimant:
        return claimant.gather(session, case, language=check_language(language), generated_by=generated_by)
    return content.gather(session, case, language=check_language(language), generated_by=generated_by,
                          config=config)


def render(data: content.ReportData | claimant.ClaimantCopy, *, config: dict, storage: Storage) -> bytes:
    """Print what ``gather`` read; touches no database."""
    if data.for_claimant:
        return render_claimant_pdf(data, config=config, storage=storage)
    return render_pdf(data, config=config, storage=storage)


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"reports are written in {', '.join(LANGUAGES)}, not {language!r}")
    return language


def audit_attachment(events: list[AuditEvent], personal: dict[int, dict]) -> bytes:
    """The case's audit events as exported everywhere (``audit.as_dict``, with their personal values), as JSON."""
    return json.dumps([audit.as_dict(event, personal.get(event.seq)) for event in events], ensure_ascii=False,
                      indent=1).encode()


def render_pdf(data: content.ReportData, *, config: dict, storage: Storage,
               fetcher: ReportFetcher | None = None) -> bytes:
    """Print the internal report; touches no database. ``fetcher`` defaults to a fresh ``ReportFetcher``."""
    return print_html(TEMPLATE, data.evidence, language=data.language, generated_at=data.generated_at,
                      attachment=(ATTACHMENT_NAME, audit_attachment(data.events, data.personal),
                                  f"Audit events of {data.case.number}"),
                      config=config, storage=storage, fetcher=fetcher,
                      report=data, case=data.case, check_labels=CheckCode.__titles__, check_detail=check_detail,
                      extracted=data.extracted, words=analysis_words, describe_event=describe)


def render_claimant_pdf(copy: claimant.ClaimantCopy, *, config: dict, storage: Storage) -> bytes:
    """Print the claimant's copy (``reports/claimant.html``) with its steps attached; touches no database."""
    return print_html(claimant.TEMPLATE, copy.evidence, language=copy.language, generated_at=copy.generated_at,
                      attachment=(claimant.ATTACHMENT_NAME, claimant.steps_attachment(copy),
                                  f"Steps of case {copy.case.number}"),
                      config=config, storage=storage, report=copy)


def print_html(template: str, evidence: list[Evidence], *, language: str, generated_at: datetime,
               attachment: tuple[str, bytes, str], config: dict, storage: Storage,
               fetcher: ReportFetcher | None = None, **context) -> bytes:
    """Render ``template`` and print it to PDF/A-3b with ``attachment`` (name, bytes, description).

    Evidence images are read (print copies) or decoded (evidence stored without one) in a
    thread per core while this thread writes the HTML, parses it and runs the style
    cascade (Pillow decodes without the GIL); WeasyPrint asks the fetcher for ``preview:N``
    only when it builds the image's box, and waits there for what is not ready yet.
    """
    templates = Path(current_app.template_folder)
    fetcher = fetcher or ReportFetcher([templates, Path(current_app.static_folder)])
    name, data, description = attachment
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        shown = [_has_image(item, storage) for item in evidence]
        for index, item in enumerate(evidence):
            if shown[index]:
                fetcher.previews[preview_url(index)] = pool.submit(_preview, item, storage, config)
        with force_locale(language):
            html = render_template(template, previews=list(zip(evidence, shown)), documents=prints.DOCUMENTS,
                                   label=label, when=_when, preview_url=preview_url, attachment_name=name, **context)
        attached = Attachment(string=data, name=name, relationship="Data", description=description,
                              url_fetcher=fetcher, created=generated_at, modified=generated_at)
        html = HTML(string=html, base_url=path2url(templates / "reports"), url_fetcher=fetcher)
        document = html.render(stylesheets=[report_css()], pdf_variant=PDF_VARIANT)
        document.metadata = ReportMetadata(**vars(document.metadata))
        return document.write_pdf(pdf_variant=PDF_VARIANT, attachments=[attached])


class ReportMetadata(DocumentMetadata):
    """WeasyPrint's metadata, with the document's language also in the XMP packet
    (``dc:language``), where archives read it; WeasyPrint 70 writes it only to the
    catalog's ``/Lang``."""

    def generate_rdf_metadata(self, variant, version, conformance):
        rdf = fromstring(super().generate_rdf_metadata(variant, version, conformance))
        if self.lang:
            description = SubElement(rdf, f"{{{NS['rdf']}}}Description", {f"{{{NS['rdf']}}}about": ""})
            languages = SubElement(SubElement(description, f"{{{NS['dc']}}}language"), f"{{{NS['rdf']}}}Bag")
            SubElement(languages, f"{{{NS['rdf']}}}li").text = self.lang
        return tostring(rdf, encoding="utf-8")


def report_css() -> CSS:
    """``report.css``, parsed once per process (again only when the file changes).

    Given to WeasyPrint as a user stylesheet: the report's HTML links none, and no other
    sheet but the user agent's applies, which ranks below it.
    """
    path = Path(current_app.template_folder) / "reports" / "report.css"
    return _parsed_css(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=2)
def _parsed_css(path: Path, _mtime_ns: int) -> CSS:
    return CSS(string=path.read_text(encoding="utf-8"), base_url=path2url(path),
               url_fetcher=ReportFetcher([path.parent]))


def preview_url(index: int) -> str:
    return f"{PREVIEW_SCHEME}:{index}"


def record_generated(session: Session, data: content.ReportData | claimant.ClaimantCopy, pdf: bytes,
                     origin: audit.Origin | None = None) -> AuditEvent:
    """The audit event of one generated report, naming the PDF's SHA-256."""
    return audit.record(
        session, actor=data.generated_by, action="report.generated", subject=("case", data.case.number),
        case_number=data.case.number, origin=origin,
        after={"sha256": hashlib.sha256(pdf).hexdigest(), "language": data.language,
               "for_claimant": data.for_claimant, "head_seq": data.head.seq if data.head else 0,
               "events": len(data.events)},
    )


def _image_sources(evidence: Evidence) -> list[tuple[str, str | None]]:
    """Stored images of the evidence to decode when it has no print copy, best first."""
    return [("viewable", evidence.viewable_sha256), ("thumbnails", evidence.thumbnail_sha256),
            ("originals", evidence.sha256 if evidence.media_type.startswith("image/") else None)]


def _has_image(evidence: Evidence, storage: Storage) -> bool:
    return any(sha256 and storage.exists(area, sha256)
               for area, sha256 in [("print", evidence.print_sha256), *_image_sources(evidence)])


def _preview(evidence: Evidence, storage: Storage, config: dict) -> bytes | None:
    """The evidence's print copy, embedded as it is; for evidence stored without one, a
    draft-decoded JPEG of its best stored image. None when no stored file is an image."""
    if evidence.print_sha256 and storage.exists("print", evidence.print_sha256):
        return storage.open("print", evidence.print_sha256)
    for area, sha256 in _image_sources(evidence):
        if not sha256 or not storage.exists(area, sha256):
            continue
        try:
            return prints.report_jpeg(storage.open(area, sha256), prints.box_for(evidence.kind),
                                      max_pixels=config.get("MAX_IMAGE_PIXELS"))
        except prints.NoPreview:
            continue
    return None


def _when(moment: datetime | date | str | None) -> str:
    """One unambiguous time format for every language: the audit trail's UTC."""
    if isinstance(moment, datetime):
        aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # stored as UTC
        return aware.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    if isinstance(moment, date):
        return moment.isoformat()
    return "" if moment is None else str(moment)
