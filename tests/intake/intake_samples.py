"""Real files for the intake tests, built with Pillow, pypdf and zlib, and small helpers."""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

GPS_IFD, EXIF_IFD = 0x8825, 0x8769


def jpeg(size=(640, 480), color=(200, 40, 40), *, gps=False, software=None, taken_at=None, trailer=b"") -> bytes:
    """A real JPEG; optionally with camera EXIF, a GPS position and bytes appended after the image."""
    image = Image.new("RGB", size, color)
    for x in range(0, size[0], 40):  # some structure, so the perceptual hash is not flat
        image.paste((20, 20, 20), (x, 0, x + 10, size[1]))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Acme", "Phone 12"
    if software:
        exif[0x0131] = software
    if taken_at:
        exif.get_ifd(EXIF_IFD)[0x9003] = taken_at
    if gps:
        position = exif.get_ifd(GPS_IFD)
        position[1], position[2] = "N", (45.0, 27.0, 36.0)
        position[3], position[4] = "E", (9.0, 11.0, 24.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue() + trailer


def png(size=(300, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 90, 160)).save(out, "PNG")
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (50, 50), (0, 200, 0)).save(out, "GIF")
    return out.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_bomb(side: int = 12000) -> bytes:
    """A ~20 KB PNG whose header says ``side`` x ``side`` (1-bit grey, all zeros)."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    pixels = zlib.compress(row * side, 9)
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def pdf(*, javascript: str | None = None, attachment: bool = False) -> bytes:
    """A one-page PDF; optionally with a document-level script or an embedded file."""
    writer = PdfWriter()
    writer.add_blank_page(width=300, height=400)
    if javascript:  # an open action that runs the script, as malicious PDFs do
        writer.root_object[NameObject("/OpenAction")] = writer._add_object(DictionaryObject({
            NameObject("/Type"): NameObject("/Action"), NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject(javascript)}))
    if attachment:
        writer.add_attachment("payload.exe", b"MZ not really")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert('x')</script></body></html>"
TEXT = b"This is not a photo at all, just some words in a text file.\n" * 20


def stored_files(upload_dir) -> list[Path]:
    """Every file in storage but its lock file."""
    root = Path(upload_dir)
    return [path for path in root.rglob("*") if path.is_file() and path != root / ".lock"] if root.exists() else []


#: the files each kind needs, as form fields
REQUIRED_FILES = {
    "device_unbind": {"evidence-receipt": ("receipt.pdf", pdf), "evidence-box_photo": ("box.jpg", jpeg)},
    "lost_credentials": {"evidence-receipt": ("receipt.pdf", pdf), "evidence-box_photo": ("box.jpg", jpeg),
                         "evidence-imei_screen": ("imei.png", png)},
    "locked_account": {"evidence-id_document": ("passport.jpg", jpeg)},
}


def files_for(kind: str) -> dict:
    return {field: [(io.BytesIO(build()), name)] for field, (name, build) in REQUIRED_FILES[kind].items()}


def outbox(app) -> list:
    """The emails written to the outbox, oldest first, parsed."""
    import email
    from email import policy

    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    paths = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [email.message_from_bytes(path.read_bytes(), policy=policy.default) for path in paths]
