"""The API's request bodies as models of ``support.claims``: the same classes validate and document.

``NewCase`` is the shared ``Claim`` plus its evidence files, ``NewEvidence`` the files
alone, ``NewMessage`` a reply. A refused body is a ``Refused`` (422) naming the first
field at fault, so bad input never reaches the database as a 500.
"""
from __future__ import annotations

from typing import Annotated, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.datastructures import FileStorage, MultiDict

from ..claims import Claim, Invalid, Rule, Text, problems
from ..filing import MAX_REPLY_CHARS
from ..models import EvidenceKind
from ..refusals import Refused
from .errors import ApiError

#: files one request may carry
MAX_FILES = 20
#: multipart fields sent once per value
REPEATED = ("account_hint", "evidence", "evidence_kind")


def _files(value: Any) -> list[FileStorage]:
    if not value:
        raise Invalid("required", _l("Attach at least one file."))
    if len(value) > MAX_FILES:
        raise Invalid("invalid", _l("Send at most %(count)d files at once.", count=MAX_FILES))
    if not all(isinstance(item, FileStorage) for item in value):
        raise Invalid("required", _l("Attach at least one file."))
    return list(value)


FILES = Rule(_files, {
    "type": "array", "minItems": 1, "maxItems": MAX_FILES, "items": {"type": "string", "format": "binary"},
    "description": "Evidence files (JPEG, PNG, WebP, HEIC/HEIF or PDF; the type is read from the bytes)."})


class NewEvidence(BaseModel):
    """Evidence files and one kind for each, in the same order."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    evidence: Annotated[list[FileStorage], FILES]
    evidence_kind: list[EvidenceKind] = Field(min_length=1, max_length=MAX_FILES,
                                              description="One kind per evidence file, in the same order.")

    def parts(self) -> list[tuple[FileStorage, EvidenceKind]]:
        """The files paired with their kinds; refuses counts that differ."""
        if len(self.evidence_kind) != len(self.evidence):
            raise Refused("count_mismatch", _("Send one evidence_kind for each evidence file, in the same order."),
                          "evidence_kind")
        return list(zip(self.evidence, self.evidence_kind))


class NewCase(NewEvidence, Claim):
    """A filing through the API: the claim, the claimant's consent and the evidence."""


class NewMessage(BaseModel):
    """A claimant's reply; nothing else may ride along (every string of the body is read at
    the door for control characters, so the schema must not promise to ignore extra keys)."""

    model_config = ConfigDict(extra="forbid")

    body: Annotated[str, Text(MAX_REPLY_CHARS, required=True, multiline=True)]


def read(model: type[BaseModel], data: dict):
    """``model`` validated from ``data``; the first refused field as a 422 ``Refused``."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problem = problems(model, error)[0]
        raise Refused(problem.code, str(problem.message), problem.field) from None


def multipart(model: type[BaseModel], form: MultiDict, files: MultiDict) -> dict:
    """The fields of ``model`` present in a multipart body; repeated ones as lists, files from ``files``."""
    data: dict[str, Any] = {}
    for name in model.model_fields:
        source = files if name == "evidence" else form
        if name in source:
            data[name] = source.getlist(name) if name in REPEATED else source.get(name)
    return data


def json_object(payload: Any) -> dict:
    """A JSON body must be an object; anything else is a 400."""
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_json", _("Send a JSON object such as {\"body\": \"...\"}."))
    return payload
