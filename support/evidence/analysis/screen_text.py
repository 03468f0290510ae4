"""The text of a ``*#06#`` screen photo, by Tesseract, and the IMEIs in it.

Tesseract runs as its own process (``tesseract`` from Debian's ``tesseract-ocr``), niced and
time-limited like ``pdftotext``: a hostile or huge picture can only slow or crash that one
process. Its TSV output gives each word's box, so an IMEI found on a line is drawn where
it was read. The picture is made grey, light-on-dark screens are inverted, and it is scaled
so the longer side is at most ``MAX_SIDE`` pixels.
"""
from __future__ import annotations

import csv
import io
import os
import signal
import subprocess

from PIL import ImageOps, ImageStat

from ...models import ExtractedKind, ExtractedSource
from .found import Found, imeis_in

#: longer side, in pixels, the picture is read at
MAX_SIDE = 2000
#: CPU seconds Tesseract may use (``prlimit``), and wall seconds the worker waits for it
OCR_SECONDS = 20
WALL_SECONDS = 120


class OcrFailed(RuntimeError):
    """Tesseract did not answer (missing, crashed, or over its time limit)."""


def words(picture, languages: str = "eng") -> list[dict]:
    """Tesseract's words on an ``analysis.Picture``: dicts of text, conf, the line key and the
    box (left, top, right, bottom) in the stored picture's pixels."""
    gray, scale = picture.grey(MAX_SIDE)
    if ImageStat.Stat(gray).mean[0] < 110:  # a dark-mode screen
        gray = ImageOps.invert(gray)
    png = io.BytesIO()
    gray.save(png, "PNG")
    try:
        result = subprocess.run(["prlimit", f"--cpu={OCR_SECONDS}", "nice", "-n", "10", "tesseract", "stdin", "stdout",
                                 "-l", languages, "--psm", "11", "tsv"],
                                input=png.getvalue(), capture_output=True, timeout=WALL_SECONDS, check=True,
                                env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    except subprocess.TimeoutExpired as error:
        raise OcrFailed(f"tesseract stopped after waiting {WALL_SECONDS} s") from error
    except subprocess.CalledProcessError as error:
        if error.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
            raise OcrFailed(f"tesseract stopped at its time limit of {OCR_SECONDS} s of CPU") from error
        raise OcrFailed(f"tesseract failed (exit {error.returncode})") from error
    except OSError as error:
        raise OcrFailed(f"tesseract: {error}") from error
    rows = csv.DictReader(io.StringIO(result.stdout.decode("utf-8", "replace")), delimiter="\t", quoting=csv.QUOTE_NONE)
    out = []
    for row in rows:
        text = (row.get("text") or "").strip()
        if not text or row.get("level") != "5":
            continue
        out.append({"text": text, "conf": float(row["conf"]), "line": (row["block_num"], row["par_num"], row["line_num"]),
                    "left": int(row["left"]) / scale, "top": int(row["top"]) / scale,
                    "right": (int(row["left"]) + int(row["width"])) / scale,
                    "bottom": (int(row["top"]) + int(row["height"])) / scale})
    return out


def lines(found_words: list[dict]) -> list[list[dict]]:
    """Words grouped by Tesseract's lines, in reading order."""
    grouped: dict[tuple, list[dict]] = {}
    for word in found_words:
        grouped.setdefault(word["line"], []).append(word)
    return list(grouped.values())


def imeis(found_words: list[dict], source: ExtractedSource = ExtractedSource.ocr) -> list[Found]:
    """The IMEIs on each line, with the box of the words they were read from."""
    found = []
    for line in lines(found_words):
        text, spans = "", []
        for word in line:
            start = len(text) + (1 if text else 0)
            text = f"{text} {word['text']}" if text else word["text"]
            spans.append((start, len(text), word))
        for imei, start, end in imeis_in(text):
            used = [word for first, last, word in spans if first < end and last > start]
            box = (round(min(w["left"] for w in used)), round(min(w["top"] for w in used)),
                   round(max(w["right"] for w in used)), round(max(w["bottom"] for w in used)))
            confidence = min(w["conf"] for w in used) / 100
            found.append(Found(ExtractedKind.imei, imei, text[start:end], source, box, confidence=round(confidence, 3)))
    return found


def read(picture) -> list[Found]:
    """The IMEIs a ``*#06#`` screen shows as text."""
    return imeis(words(picture))
