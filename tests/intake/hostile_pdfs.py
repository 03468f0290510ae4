"""PDFs built object by object, for what a hostile claimant may hide in one."""
from __future__ import annotations

import io
import struct
import zlib

from pypdf import PdfWriter

PAGE_CONTENT = b"0 0 1 rg 20 20 160 160 re f"


def build(objects: list[bytes]) -> bytes:
    """A PDF of ``objects`` (numbered from 1; 1 is the catalog) with a classic xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def stream(data: bytes, entries: bytes = b"") -> bytes:
    return b"<< " + entries + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def document(catalog: bytes = b"", page: bytes = b"", extra: list[bytes] = ()) -> bytes:
    """One page; ``catalog`` and ``page`` add entries; ``extra`` are objects 5, 6, …"""
    return build([
        b"<< /Type /Catalog /Pages 2 0 R " + catalog + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R " + page + b" >>",
        stream(PAGE_CONTENT),
        *extra,
    ])


def clean() -> bytes:
    """A plain page with a harmless cycle (object 5 names itself) and a web link."""
    return document(catalog=b"/Loop 5 0 R", page=b"/Annots [6 0 R]",
                    extra=[b"<< /Next 5 0 R >>",
                           b"<< /Type /Annot /Subtype /Link /Rect [0 0 50 50] /A << /S /URI /URI (https://example.test/) >> >>"])


def in_object_stream(action: bytes) -> bytes:
    """The catalog's open action stored compressed-style inside an object stream (PDF 1.5),
    found only through the cross-reference stream."""
    body = action
    header = b"6 0 "
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
        stream(PAGE_CONTENT),
        stream(header + body, b"/Type /ObjStm /N 1 /First %d" % len(header)),
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body_bytes in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body_bytes + b"\nendobj\n"
    xref_offset = len(out)
    rows = [struct.pack(">BIH", 0, 0, 65535)]
    rows += [struct.pack(">BIH", 1, offset, 0) for offset in offsets]
    rows += [struct.pack(">BIH", 2, 5, 0), struct.pack(">BIH", 1, xref_offset, 0)]
    data = b"".join(rows)
    out += b"7 0 obj\n" + stream(data, b"/Type /XRef /Size 8 /W [1 4 2] /Root 1 0 R") + b"\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref_offset
    return bytes(out)


def slow_page(strokes: int = 400_000, side: int = 200) -> bytes:
    """A small file (compressed) whose one page keeps a renderer busy: many stroked lines."""
    content = b"\n".join(b"%d %d m %d %d l S" % (i % side, (i * 7) % side, (i * 13) % side, (i * 3) % side)
                         for i in range(strokes))
    return build([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R >>" % (side, side),
        stream(zlib.compress(content, 9), b"/Filter /FlateDecode"),
    ])


def encrypted() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password="", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


#: hostile documents: what each hides
HOSTILE = {
    "evil.exe attachment annotation": document(page=b"/Annots [5 0 R]", extra=[
        b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 20 20] /FS 6 0 R >>",
        b"<< /Type /Filespec /F (evil.exe) /EF << /F 7 0 R >> >>",
        stream(b"MZ\x90\x00", b"/Type /EmbeddedFile")]),
    "embedded files name tree": document(catalog=b"/Names << /EmbeddedFiles << /Names [(a.exe) 5 0 R] >> >>", extra=[
        b"<< /Type /Filespec /F (a.exe) >>"]),
    "embedded file nothing points to": document(extra=[stream(b"MZ\x90\x00", b"/Type /EmbeddedFile")]),
    "XFA form with a script": document(catalog=b"/AcroForm << /Fields [] /XFA 5 0 R >>", extra=[
        stream(b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><script>app.alert(1)</script></xdp:xdp>')]),
    "GoToR open action": document(catalog=b"/OpenAction << /S /GoToR /F (\\\\\\\\evil.test\\\\share\\\\x.pdf) /D [0 /Fit] >>"),
    "GoToE link": document(page=b"/Annots [5 0 R]", extra=[
        b"<< /Type /Annot /Subtype /Link /Rect [0 0 20 20] /A << /S /GoToE /T << /R /C /N (x) >> >> >>"]),
    "launch action": document(catalog=b"/OpenAction 5 0 R", extra=[b"<< /S /Launch /F (cmd.exe) >>"]),
    "JavaScript in an annotation's /AA": document(page=b"/Annots [5 0 R]", extra=[
        b"<< /Type /Annot /Subtype /Widget /Rect [0 0 20 20] /AA << /E 6 0 R >> >>",
        b"<< /S /JavaScript /JS (app.alert(1)) >>"]),
    "hex-escaped /J#61vaScript name tree": document(catalog=b"/Names << /J#61vaScript 5 0 R >>", extra=[
        b"<< /Names [(x) << /S /J#61vaScript /J#53 (app.alert(1)) >>] >>"]),
    "hex-escaped action type on a link": document(page=b"/Annots [5 0 R]", extra=[
        b"<< /Type /Annot /Subtype /Link /Rect [0 0 20 20] /A << /S /#4Caunch /F (x.exe) >> >>"]),
    "rendition action": document(catalog=b"/OpenAction << /S /Rendition /OP 0 >>"),
    "movie annotation": document(page=b"/Annots [5 0 R]", extra=[
        b"<< /Type /Annot /Subtype /Movie /Rect [0 0 20 20] /Movie << /F (x.mov) >> >>"]),
    "sound action": document(catalog=b"/OpenAction << /S /Sound /Sound 5 0 R >>", extra=[stream(b"\x00" * 8, b"/R 8000")]),
    "rich media annotation": document(page=b"/Annots [5 0 R]", extra=[
        b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 20 20] /RichMediaContent << >> >>"]),
    "JavaScript inside an object stream": in_object_stream(b"<< /S /JavaScript /JS (app.alert(1)) >>"),
}
