"""The typed fields of a filing refused for its size (413), so the page can keep them.

Werkzeug refuses a body over ``MAX_CONTENT_LENGTH`` before the form is parsed, so the
form's own parser never sees the typed text. Browsers send a form's parts in page order
and the filing form puts every text field before its file inputs, so the fields are at
the start of the body: ``fields_before_files`` reads at most ``MAX_TEXT_BYTES`` of it
with Werkzeug's own multipart decoder and stops at the first file. No file is read,
stored or staged; the rest of the body is left to the server, which discards it.
"""
from __future__ import annotations

from werkzeug.datastructures import MultiDict
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

#: the text of the form is far smaller; a body whose fields need more is not kept
MAX_TEXT_BYTES = 256 * 1024
CHUNK = 16 * 1024


def fields_before_files(environ: dict) -> MultiDict:
    """The text fields at the start of a multipart body not yet read; empty if it is not one.

    Only for a body the application refused unread: the raw input must be at its start.
    """
    mimetype, options = parse_options_header(environ.get("CONTENT_TYPE", ""))
    boundary = options.get("boundary")
    if mimetype != "multipart/form-data" or not boundary:
        return MultiDict()
    stream = environ["wsgi.input"]
    decoder = MultipartDecoder(boundary.encode("latin-1"), max_form_memory_size=MAX_TEXT_BYTES)
    fields: MultiDict = MultiDict()
    name, value, read = None, bytearray(), 0
    try:
        while read < MAX_TEXT_BYTES:
            chunk = stream.read(min(CHUNK, MAX_TEXT_BYTES - read))
            read += len(chunk)
            decoder.receive_data(chunk or None)
            event = decoder.next_event()
            while not isinstance(event, NeedData):
                if isinstance(event, (File, Epilogue)):
                    return fields
                if isinstance(event, Field):
                    name, value = event.name, bytearray()
                elif isinstance(event, Data):
                    value += event.data
                    if not event.more_data and name is not None:
                        fields.add(name, value.decode("utf-8", "replace"))
                event = decoder.next_event()
            if not chunk:
                break
    except (ValueError, OSError):  # a broken or cut body: keep what was whole
        pass
    return fields
