"""``inspect``: judge an upload by its bytes (libmagic, never the name) and make the safe copies.
Inspect before the write transaction begins: it is the slow part."""
from __future__ import annotations

import magic
from flask_babel import gettext as _

from .images import IMAGE_TYPES, inspect_image
from .pdf import PDF_TYPE, inspect_pdf
from .upload import EvidenceRejected, Inspected, Upload, display_name


ALLOWED_NAMES = "JPEG, PNG, WebP, HEIC, PDF"


def inspect(upload: Upload, config) -> Inspected:
    """Judge ``upload`` by its bytes; raise ``EvidenceRejected`` or return the safe copies."""
    name = display_name(upload.filename)
    if not upload.data:
        raise EvidenceRejected("empty", _("“%(name)s” is empty.", name=name))
    limit_mb = config["MAX_FILE_MB"]
    if len(upload.data) > limit_mb * 1024 * 1024:
        raise EvidenceRejected("too_large", _("“%(name)s” is larger than %(limit)s MB. Please send a smaller photo or scan.",
                                               name=name, limit=limit_mb))
    media_type = magic.from_buffer(upload.data[:65536], mime=True)
    if media_type in IMAGE_TYPES:
        inspected = inspect_image(upload, media_type, config)
    elif media_type == PDF_TYPE:
        inspected = inspect_pdf(upload)
    else:
        raise EvidenceRejected("type_not_allowed", _("“%(name)s” is not a file type we accept. Please send a photo or a PDF: %(allowed)s.",
                                                      name=name, allowed=ALLOWED_NAMES))
    return inspected
