"""Lines appended to a file that several processes write: the audit witness, the erasure ledger."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable


def append_lines(path: Path, lines: Iterable[dict], *, sync: bool = False) -> None:
    """Append ``lines`` as JSON lines in one ``write(2)`` on an O_APPEND file, so lines from
    several processes never interleave; ``sync``: on disk before returning."""
    text = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
    if not text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(descriptor, text.encode())
        if sync:
            os.fsync(descriptor)
    finally:
        os.close(descriptor)
