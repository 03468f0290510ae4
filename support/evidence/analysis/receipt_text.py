"""A receipt's text: the PDF's own text layer when it has one, else Tesseract's reading.

``read_receipt(data, media_type)`` returns what ``receipt_fields`` finds in it. A PDF's
text comes from poppler's ``pdftotext`` (no boxes: the PDF is shown as it is); a PDF
without text (a scan) and every picture are read by Tesseract (``eng+rus+ita``) from its
TSV output, the same word boxes ``pytesseract.image_to_data`` returns, mapped back to the
upright picture's pixels (the copy agents view, ``Evidence.viewable_sha256``).

Both tools run as their own niced processes with a CPU limit (``prlimit``; the worker also
stops waiting after ``WALL_SECONDS``): a hostile file can only crash or slow that one process. Tesseract gets one thread
(``OMP_THREAD_LIMIT=1``): on a small machine its threads only fight the web server.

Before OCR the picture is made easy to read: grey, at most ``OCR_MAX_SIDE`` pixels on its
long side, shadows divided out (the picture over a blurred copy of itself), contrast
stretched.
"""
from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import warnings
from pathlib import Path

from PIL import Image, ImageChops, ImageFilter, ImageOps

from .found import Found
from .screen_text import OcrFailed
from .receipt_fields import Line, Word, fields

PDF_TYPE = "application/pdf"
#: what a stored receipt picture may be (the viewable copy is JPEG or PNG)
PICTURE_FORMATS = ["JPEG", "PNG", "WEBP"]
#: pixels a picture may have (the upload's default ``MAX_IMAGE_PIXELS``)
MAX_PIXELS = 50_000_000
LANGUAGES = "eng+rus+ita"
#: longest side of the picture Tesseract reads (a 12-MP photo is scaled down, a small scan up)
OCR_MAX_SIDE = 2200
OCR_MIN_SIDE = 1400
#: CPU seconds each tool may use (``prlimit``: what stops a hostile file, whatever the load)
OCR_SECONDS = 20
PDF_SECONDS = 20
#: wall seconds the worker waits for one tool (generous: on a machine loaded by others a
#: niced tool gets little CPU, and a sound receipt must not fail for that)
WALL_SECONDS = 120
#: pages of a PDF read (receipts are one or two pages)
PDF_PAGES = 2


class ReadFailed(OcrFailed):
    """A tool crashed or ran out of time, or the picture is not one we decode: the reading
    failed (not "nothing found"); the run marks the file ``failed``."""


def read_receipt(data: bytes | str | Path, media_type: str, *, max_pixels: int = MAX_PIXELS) -> list[Found]:
    """What the receipt says: IMEIs, serials, dates, shop, model, total (``receipt_fields``).
    ``ReadFailed`` when a tool fails or the picture is not one we decode."""
    return read_receipt_and_text(data, media_type, max_pixels=max_pixels)[0]


def read_receipt_and_text(data: bytes | str | Path, media_type: str, *,
                          max_pixels: int = MAX_PIXELS) -> tuple[list[Found], str]:
    """``read_receipt``'s values and the text they were found in, line by line (what
    full-text search finds the receipt by)."""
    if not isinstance(data, bytes):
        data = Path(data).read_bytes()
    if media_type == PDF_TYPE:
        lines, source = pdf_lines(data), "pdf_text"
        if not any(line.text.strip() for line in lines):
            lines, source = scanned_pdf_lines(data), "ocr"
    else:
        lines, source = ocr_lines(open_picture(data, max_pixels)), "ocr"
    return fields(lines, source), "\n".join(line.text for line in lines)


def open_picture(data: bytes, max_pixels: int) -> Image.Image:
    """The upright picture, if its header promises at most ``max_pixels`` (checked before
    any pixel is decoded: a file changed in storage cannot become a decompression bomb)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data), formats=PICTURE_FORMATS)
            if picture.width * picture.height > max_pixels:
                raise ReadFailed("too_many_pixels")
            picture.load()
        return ImageOps.exif_transpose(picture)
    except ReadFailed:
        raise
    except Exception as error:  # Pillow raises many types for hostile bytes
        raise ReadFailed(f"unreadable picture: {error}") from error


def limited(command: list[str], cpu_seconds: int) -> list[str]:
    """``command`` niced, with at most ``cpu_seconds`` of CPU (the kernel kills it past that)."""
    return ["prlimit", f"--cpu={cpu_seconds}", "nice", "-n", "10", *command]


def over_cpu(error: subprocess.CalledProcessError) -> bool:
    """Killed by the kernel at its CPU limit (SIGXCPU, or SIGKILL at the hard limit)."""
    return error.returncode in (-signal.SIGXCPU, -signal.SIGKILL, 128 + signal.SIGXCPU, 128 + signal.SIGKILL)


def _run(command: list[str], data: bytes, seconds: int) -> bytes:
    try:
        result = subprocess.run(limited(command, seconds), input=data, capture_output=True, timeout=WALL_SECONDS,
                                check=True, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    except subprocess.TimeoutExpired as error:
        raise ReadFailed(f"{command[0]} stopped after waiting {WALL_SECONDS} s") from error
    except subprocess.CalledProcessError as error:
        if over_cpu(error):
            raise ReadFailed(f"{command[0]} stopped at its time limit of {seconds} s of CPU") from error
        raise ReadFailed(f"{command[0]} failed (exit {error.returncode})") from error
    except OSError as error:
        raise ReadFailed(f"{command[0]}: {error}") from error
    return result.stdout


def pdf_lines(data: bytes) -> list[Line]:
    """The text layer of the first pages, line by line (``-layout`` keeps a till's columns)."""
    text = _run(["pdftotext", "-layout", "-f", "1", "-l", str(PDF_PAGES), "-enc", "UTF-8", "-", "-"],
                data, PDF_SECONDS).decode("utf-8", "replace")
    return [Line([Word(word) for word in row.split()], page)
            for page, sheet in enumerate(text.split("\f"), start=1) for row in sheet.splitlines() if row.split()]


def scanned_pdf_lines(data: bytes) -> list[Line]:
    """Page 1 of a PDF without text, drawn by ``pdftoppm`` and read by Tesseract (no boxes:
    agents see the PDF itself, not this drawing)."""
    png = _run(["pdftoppm", "-f", "1", "-l", "1", "-singlefile", "-png", "-scale-to", str(OCR_MAX_SIDE), "-"], data, PDF_SECONDS)
    page = Image.open(io.BytesIO(png), formats=["PNG"])
    return [Line([Word(word.text, None, word.confidence) for word in line.words], 1) for line in ocr_lines(page)]


def prepare(image: Image.Image) -> tuple[Image.Image, float]:
    """A grey picture Tesseract reads well, and the factor from its pixels to the original's."""
    grey = ImageOps.grayscale(image)
    scale = min(1.0, OCR_MAX_SIDE / max(grey.size))
    if max(grey.size) < OCR_MIN_SIDE:
        scale = OCR_MIN_SIDE / max(grey.size)
    if scale != 1.0:
        grey = grey.resize((round(grey.width * scale), round(grey.height * scale)), Image.Resampling.LANCZOS)
    # shadows and uneven light: divide by the background (a heavy blur of a small copy)
    small = grey.reduce(8) if min(grey.size) >= 64 else grey
    background = small.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.GaussianBlur(6)).resize(grey.size)
    flat = ImageChops.invert(ImageChops.subtract(background, grey))
    return ImageOps.autocontrast(flat, cutoff=1), 1 / scale


def ocr_lines(image: Image.Image) -> list[Line]:
    """Tesseract's words grouped in its lines, boxes in ``image``'s pixels."""
    prepared, back = prepare(image)
    png = io.BytesIO()
    prepared.save(png, "PNG")
    tsv = _run(["tesseract", "stdin", "stdout", "-l", LANGUAGES, "--psm", "4", "tsv"], png.getvalue(), OCR_SECONDS)
    lines: dict[tuple, Line] = {}
    for row in csv.DictReader(io.StringIO(tsv.decode("utf-8", "replace")), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text or float(row.get("conf") or -1) < 0:
            continue
        left, top, width, height = (int(row[key]) for key in ("left", "top", "width", "height"))
        box = (round(left * back), round(top * back), round((left + width) * back), round((top + height) * back))
        key = (row["page_num"], row["block_num"], row["par_num"], row["line_num"])
        lines.setdefault(key, Line([], None)).words.append(Word(text, box, round(float(row["conf"]) / 100, 3)))
    return list(lines.values())
