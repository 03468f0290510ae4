"""A reseller files the receipt of an earlier case again, re-encoded and cropped, through
/recover: the agent's case page fails the same-evidence check and links the earlier case."""
from __future__ import annotations

import io
import re
import sys
from pathlib import Path

from support.models import Role

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import pictures  # noqa: E402

SHOP = pictures.template(3)


def _unbind_files(receipt: bytes, box_seed: int) -> dict:
    """The receipt and a box photo of its own (a picture no other case has)."""
    box = pictures.jpeg(pictures.receipt(pictures.template(box_seed), box_seed))
    return {"evidence-receipt": [(io.BytesIO(receipt), "receipt.jpg")],
            "evidence-box_photo": [(io.BytesIO(box), "box.jpg")]}


def test_a_re_encoded_cropped_receipt_filed_again_is_linked_to_the_first_case(recover, client, login):
    original = pictures.receipt(SHOP, seed=4)
    first = recover(files=_unbind_files(pictures.jpeg(original), 11), contact_email="first@example.test")
    assert first.status_code == 303
    copy = pictures.jpeg(pictures.cropped(pictures.resized(original, -5), 2, "right"), quality=85)
    second = recover(files=_unbind_files(copy, 12), contact_email="reseller@example.test")
    assert second.status_code == 303
    login(Role.agent)
    queue = client.get("/queue?status=all").text
    numbers = sorted(set(re.findall(r'data-number="([^"]+)"', queue)))
    assert len(numbers) == 2
    later = client.get(f"/cases/{numbers[1]}").text
    assert "a near-duplicate picture was uploaded to another case" in later
    assert numbers[0] in later


def test_receipts_of_the_same_shop_filed_by_two_owners_are_not_linked(recover, client, login):
    for seed, email in ((5, "one@example.test"), (6, "two@example.test")):
        files = _unbind_files(pictures.jpeg(pictures.receipt(SHOP, seed)), seed + 20)
        assert recover(files=files, contact_email=email).status_code == 303
    login(Role.agent)
    for number in re.findall(r'data-number="([^"]+)"', client.get("/queue?status=all").text):
        page = client.get(f"/cases/{number}").text
        assert "near-duplicate picture" not in page and "same file was uploaded" not in page
