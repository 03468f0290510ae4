"""Evidence: the files a claimant sends, judged by their bytes, stored, and read.

- ``rules``: what each kind of case needs (``REQUIRED``, ``missing_evidence``);
- ``upload``: an upload as received (``Upload``), as judged (``Inspected``), refused
  (``EvidenceRejected``);
- ``inspection``: ``inspect`` decides everything without touching the database or the disk:
  the type comes from libmagic, never the name; ``images`` opens pictures with a per-call
  pixel limit (checked against the header before any pixel is decoded), turns them upright
  and re-encodes them onto a fresh canvas, so EXIF, GPS, comments and appended bytes never
  reach the copy agents view; ``pdf`` refuses PDFs that are encrypted, have active content
  (``pdf_content``), too many pages or a page too large, with a cheap parser only. Each
  accepted picture also gets its print copy, the JPEG case reports embed (``prints``), and
  its perceptual hash (``images.phash``), which ``near_duplicates`` indexes in the same
  transaction as the evidence row (and looks up for the duplicate check); a PDF gets them
  from the worker (``pictures``: page 1 drawn in a niced, time-limited process), so the
  upload never waits for poppler. Inspect before the write transaction begins: it is the
  slow part;
- ``store``: ``attach`` stores the files content-addressed and adds the ``Evidence`` row; the
  files are settled when the transaction ends (``written``): removed only if no committed
  row names them;
- ``analysis``: what is read from a stored file after the upload, off the request path
  (barcodes, text, screenshots; ``docs/analysis.md``).

What callers use is re-exported here, so ``from support import evidence`` and
``evidence.attach(...)`` keep working.
"""
from __future__ import annotations

from . import images, pdf, prints
from .images import IMAGE_TYPES, exif_summary, phash, strict_decoding
from .inspection import ALLOWED_NAMES, inspect
from .pdf import PDF_TYPE
from .rules import REQUIRED, missing_evidence
from .store import add_print_copy, attach, store_files
from .upload import EvidenceRejected, Inspected, Upload, display_name

__all__ = ["ALLOWED_NAMES", "IMAGE_TYPES", "PDF_TYPE", "REQUIRED", "EvidenceRejected", "Inspected", "Upload",
           "add_print_copy", "attach", "display_name", "exif_summary", "images", "inspect", "missing_evidence",
           "pdf", "phash", "prints", "store_files", "strict_decoding"]
