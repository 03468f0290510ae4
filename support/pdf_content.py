"""What a PDF carries that can run, launch or hide something, found in its parsed objects.

Byte patterns miss what the format lets an author spell differently (``/J#61vaScript`` is
``/JavaScript``), compress (object streams) or reach indirectly. So the document is parsed
(pypdf, which decodes name escapes and reads object streams) and every object is visited
once: everything reachable from the trailer, and every object the cross-reference tables
list, reachable or not. A document too large to walk within the budget is refused as well.
"""
from __future__ import annotations

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

#: objects visited at most; a PDF needing more is refused
OBJECT_BUDGET = 50_000
#: dictionary keys that hold scripts, triggers, embedded files, media or XFA forms
ACTIVE_KEYS = {
    "/JS": "javascript", "/JavaScript": "javascript", "/AA": "action",
    "/EmbeddedFiles": "attachment", "/EmbeddedFile": "attachment", "/EF": "attachment",
    "/RichMedia": "media", "/RichMediaContent": "media", "/XFA": "xfa",
    "/Movie": "media", "/Sound": "media", "/3DD": "media",
}
#: action types (``/S``) that run, launch, fetch or play something
ACTIVE_ACTIONS = {
    "/JavaScript": "javascript", "/Launch": "action", "/GoToR": "action",
    "/GoToE": "action", "/Rendition": "media", "/Movie": "media", "/Sound": "media",
    "/RichMediaExecute": "media", "/ImportData": "action", "/SubmitForm": "action",
}
#: types (``/Type``) and annotation subtypes (``/Subtype``) that embed files or media
ACTIVE_TYPES = {
    "/EmbeddedFile": "attachment", "/FileAttachment": "attachment", "/RichMedia": "media",
    "/Movie": "media", "/Sound": "media", "/Screen": "media", "/3D": "media",
}


def active_content(reader: PdfReader) -> str | None:
    """What active content ``reader``'s document carries, or None: "javascript", "action",
    "attachment", "media", "xfa", or "too_complex" (more objects than the budget)."""
    pending: list = [reader.trailer]
    pending.extend(_listed_objects(reader))
    seen: set[tuple[int, int]] = set()
    visited = 0
    while pending:
        node = pending.pop()
        if isinstance(node, IndirectObject):
            if (node.idnum, node.generation) in seen:
                continue
            seen.add((node.idnum, node.generation))
            node = node.get_object()
        visited += 1
        if visited > OBJECT_BUDGET:
            return "too_complex"
        if isinstance(node, DictionaryObject):
            found = _active(node)
            if found:
                return found
            pending.extend(node.values())
        elif isinstance(node, ArrayObject):
            pending.extend(node)
    return None


def _active(node: DictionaryObject) -> str | None:
    for key in node.keys():
        if key in ACTIVE_KEYS:
            return ACTIVE_KEYS[key]
    for key, kinds in (("/S", ACTIVE_ACTIONS), ("/Type", ACTIVE_TYPES), ("/Subtype", ACTIVE_TYPES)):
        value = node.get(key)
        if isinstance(value, str) and value in kinds:
            return kinds[value]
    return None


def _listed_objects(reader: PdfReader) -> list[IndirectObject]:
    """Every object the cross-reference tables and streams name, reachable or not."""
    listed = [IndirectObject(idnum, generation, reader)
              for generation, numbers in reader.xref.items() for idnum in numbers]
    listed.extend(IndirectObject(idnum, 0, reader) for idnum in reader.xref_objStm)
    return listed
