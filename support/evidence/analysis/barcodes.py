"""Every 1D and 2D barcode on a picture, by zxing-cpp in a process of its own; the IMEIs among them.

A phone box label carries each IMEI as a Code 128 (sometimes with EAN-13 or a QR code for
the model); a screen showing ``*#06#`` often draws them as barcodes too. Every code read is
kept (kind ``barcode``, its format in ``raw``), and each one whose text is a valid IMEI
also as kind ``imei``. A code's checksum and the IMEI's Luhn digit together make a wrong
IMEI read very unlikely; a code zxing cannot read is simply absent.

The decoding itself (``decoder.py``, stages from cheap to thorough) runs as a child
process, niced, stopped by the kernel after ``DECODE_CPU_SECONDS`` of CPU (and waited for
at most ``DECODE_SECONDS``), with its memory capped: zxing-cpp is
native code that a thread could not stop, and a crafted picture must not hold a worker.
A decoder that runs out of time or crashes raises ``DecoderFailed``, and the run marks the
file ``failed`` with that reason (its checks warn).
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from ...models import ExtractedKind, ExtractedSource
from .found import Found, imeis_in

DECODER = Path(__file__).with_name("decoder.py")
#: CPU seconds the decoder may use for one picture (a 12-MP photo takes under one; an
#: unreadable one, every stage, a few): past it the kernel stops it (``prlimit``)
DECODE_CPU_SECONDS = 30
#: wall seconds the worker waits for it (generous: a niced decoder on a machine loaded by
#: others gets little CPU, and a sound photo must not fail for that)
DECODE_SECONDS = 120


class DecoderFailed(RuntimeError):
    """The decoder ran out of time or crashed: the reading failed (not "no barcode")."""


def read(picture) -> list[Found]:
    """The codes on an ``analysis.Picture``, IMEIs first, each once, with its box in the stored picture's pixels."""
    found: list[Found] = []
    for format_name, text, box in decode(picture.data, picture.max_pixels, DECODE_SECONDS):
        label = f"{format_name}: {text}"[:255]
        box = tuple(box)
        found.append(Found(ExtractedKind.barcode, text[:255], label, ExtractedSource.barcode, box))
        for imei, _start, _end in imeis_in(text):
            found.append(Found(ExtractedKind.imei, imei, label, ExtractedSource.barcode, box))
    return sorted(found, key=lambda item: (item.kind != ExtractedKind.imei, item.box[1], item.box[0], item.value))


def decode(data: bytes, max_pixels: int, seconds: float) -> list[tuple[str, str, list[int]]]:
    """``decoder.py``'s codes for ``data``; ``DecoderFailed`` past ``seconds`` or on a crash."""
    from . import ReadRefused

    try:
        result = subprocess.run(["prlimit", f"--cpu={DECODE_CPU_SECONDS}", "nice", "-n", "10", sys.executable, "-I",
                                 str(DECODER), str(int(max_pixels))],
                                input=data, capture_output=True, timeout=seconds, check=True)
        answer = json.loads(result.stdout)
    except subprocess.TimeoutExpired as error:
        raise DecoderFailed(f"barcode reading stopped after its time limit of {seconds:g} s") from error
    except subprocess.CalledProcessError as error:
        if error.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
            raise DecoderFailed(f"barcode reading stopped at its time limit of {DECODE_CPU_SECONDS} s of CPU") from error
        last = (error.stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {error.returncode}"]
        raise DecoderFailed(f"the barcode decoder failed: {last[0][:200]}") from error
    except (OSError, ValueError) as error:
        raise DecoderFailed(f"the barcode decoder failed: {error}") from error
    if "refused" in answer:
        raise ReadRefused(answer["refused"])
    return answer["codes"]
