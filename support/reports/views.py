"""PDF case reports: the download route, the case page panel and the report commands."""
from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, request, send_file

from .. import cases, db, navigation, storage, web
from ..extensions import LANGUAGES
from .commands import export_group, report_command
from .pdf import check_size, gather, record_generated, render

bp = Blueprint("reports", __name__, cli_group=None)
bp.cli.add_command(report_command)
bp.cli.add_command(export_group)
navigation.case_panel("reports/_panel.html")


@bp.get("/cases/<number>/report.pdf")
@web.roles_required(*web.READERS)
def download(number: str):
    """The case report as a PDF attachment; ``?lang=ru|it|en``, ``?for_claimant=1``.

    404 for an unknown case, 400 for a language reports are not written in, 413 for a
    case too large to print here. Read, then render with the session released, then
    audit the report in a short write of its own.
    """
    case = cases.get_by_number(db.session(), number)
    if case is None:
        abort(404)
    language = request.args.get("lang", "en")
    if language not in LANGUAGES:
        abort(400)
    for_claimant = request.args.get("for_claimant") in ("1", "true", "yes", "on")
    check_size(db.session(), case, current_app.config)
    data = gather(db.session(), case, language=language, for_claimant=for_claimant,
                  generated_by=web.agent_actor(), config=current_app.config)
    db.release()
    pdf = render(data, config=current_app.config, storage=storage.storage())
    with db.transaction() as session:
        record_generated(session, data, pdf, origin=web.origin())
    suffix = "-claimant" if for_claimant else ""
    response = send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                         download_name=f"{case.number}{suffix}-{language}.pdf")
    response.headers["Cache-Control"] = "no-store"  # personal data: never kept by a proxy or the browser
    return response
