"""Receipts made by code, with the truth they carry: for the tests and ``bench/analysis.py``.

``make_receipt(rng, language)`` invents a till receipt in English, Russian or Italian
(shop, date in one of the language's usual formats, model, IMEI, serial, total);
``receipt_photo`` draws it with DejaVu fonts and, when ``degraded``, makes it look
photographed on a table: rotated a few degrees, in perspective, a shadow across, noise,
blur, JPEG quality 40-60; ``receipt_pdf`` prints it with WeasyPrint, so the PDF has a
text layer. Nothing is downloaded.
"""
from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from support import device_models, imei

FONTS = Path("/usr/share/fonts/truetype/dejavu")
FACES = ["DejaVuSansMono.ttf", "DejaVuSans.ttf", "DejaVuSansCondensed.ttf", "DejaVuSerif.ttf"]

MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
    "it": ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre",
           "ottobre", "novembre", "dicembre"],
    "ru": ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
           "ноября", "декабря"],
}
#: per language: how the date is printed (each a function of the date)
DATE_FORMATS = {
    "en": [lambda d: f"{d:%d.%m.%Y}", lambda d: f"{d:%Y-%m-%d}", lambda d: f"{d.day}/{d.month}/{d:%y}",
           lambda d: f"{MONTHS['en'][d.month - 1]} {d.day}, {d.year}", lambda d: f"{d.day} {MONTHS['en'][d.month - 1][:3]} {d.year}"],
    "ru": [lambda d: f"{d:%d.%m.%Y}", lambda d: f"{d.day} {MONTHS['ru'][d.month - 1]} {d.year} г.",
           lambda d: f"{d:%d.%m.%y}"],
    "it": [lambda d: f"{d:%d/%m/%Y}", lambda d: f"{d.day} {MONTHS['it'][d.month - 1]} {d.year}",
           lambda d: f"{d:%d-%m-%Y}"],
}
WORDS = {
    "en": {"date": "Date", "receipt": "SALES RECEIPT", "qty": "Qty 1", "total": "TOTAL", "cash": "Card payment",
           "serial": "S/N", "thanks": "Thank you for shopping with us", "vat": "VAT included", "currency": "EUR"},
    "ru": {"date": "Дата", "receipt": "КАССОВЫЙ ЧЕК", "qty": "Кол-во 1", "total": "ИТОГО", "cash": "Оплата картой",
           "serial": "Серийный номер", "thanks": "Спасибо за покупку", "vat": "НДС 20%", "currency": "руб."},
    "it": {"date": "Data", "receipt": "DOCUMENTO COMMERCIALE", "qty": "Q.tà 1", "total": "TOTALE",
           "cash": "Pagamento elettronico", "serial": "Numero di serie", "thanks": "Grazie e arrivederci",
           "vat": "IVA inclusa", "currency": "EUR"},
}
SHOPS = {"en": ["Phone Corner Ltd", "City Mobile Store", "Gadget Hub"],
         "ru": ["ООО Связной", "М.Видео Казань", "DNS Москва"],
         "it": ["MediaWorld Roma", "Unieuro Torino", "Mi Store Milano"]}


@dataclass
class Receipt:
    language: str
    shop: str
    day: date
    date_text: str
    model: str
    imei: str
    serial: str
    total: int
    lines: list[tuple[str, str]] = field(default_factory=list)  # (left, right) columns


def make_receipt(rng: random.Random, language: str, *, imei_value: str | None = None,
                 day: date | None = None) -> Receipt:
    words = WORDS[language]
    day = day or date(2024, 3, 1) + timedelta(days=rng.randrange(900))
    model = rng.choice(sorted(device_models.RELEASED))
    body = "35" + "".join(str(rng.randrange(10)) for _ in range(12))  # from rng: a seed fixes the set
    value = imei_value or body + imei.luhn_digit(body)
    serial = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(12))
    total = rng.randrange(99, 1500) * (100 if language == "ru" else 1)
    date_text = rng.choice(DATE_FORMATS[language])(day)
    receipt = Receipt(language, rng.choice(SHOPS[language]), day, date_text, model, value, serial, total)
    money = f"{total:,}".replace(",", " ") + ",00"
    receipt.lines = [
        (receipt.shop, ""), (words["receipt"], ""), (f"{words['date']} {date_text}", f"{rng.randrange(8, 21)}:{rng.randrange(60):02d}"),
        ("-" * 30, ""), (model, money), (words["qty"], ""), (f"IMEI {value}", ""),
        (f"{words['serial']} {serial}", ""), ("-" * 30, ""), (words["total"], f"{money} {words['currency']}"),
        (words["vat"], ""), (words["cash"], f"**** {rng.randrange(10000):04d}"),
        # numbers that are not IMEIs: a 13-digit EAN, a 16-digit card-like transaction id, a phone
        (f"EAN {rng.randrange(10**12, 10**13)}", ""), (f"TRN {rng.randrange(10**15, 10**16)}", ""),
        (f"Tel. +{rng.choice(['39 06', '7 495', '44 20'])} {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}", ""),
        (words["thanks"], ""),
    ]
    return receipt


def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / name), size)


def receipt_paper(receipt: Receipt, rng: random.Random) -> Image.Image:
    """The receipt itself, flat and sharp, as a till prints it."""
    font = _font(rng.choice(FACES), rng.randrange(26, 34))
    height = 60 + len(receipt.lines) * int(font.size * 1.6)
    paper = Image.new("RGB", (760, height), (250, 249, 244))
    draw = ImageDraw.Draw(paper)
    for row, (left, right) in enumerate(receipt.lines):
        top = 30 + row * int(font.size * 1.6)
        draw.text((30, top), left, fill=(20, 20, 20), font=font)
        if right:
            draw.text((730 - draw.textlength(right, font=font), top), right, fill=(20, 20, 20), font=font)
    return paper


def receipt_photo(receipt: Receipt, rng: random.Random, *, degraded: bool, size: tuple[int, int] | None = None) -> bytes:
    """A JPEG of the receipt: a clean scan, or (``degraded``) a phone photo of it on a table."""
    paper = receipt_paper(receipt, rng)
    if not degraded:
        out = io.BytesIO()
        paper.save(out, "JPEG", quality=90)
        return out.getvalue()
    width, height = size or (1600, 2000)
    table = Image.new("RGB", (width, height), (rng.randrange(90, 140), rng.randrange(70, 110), rng.randrange(50, 80)))
    scale = min(width * 0.8 / paper.width, height * 0.85 / paper.height)
    paper = paper.resize((int(paper.width * scale), int(paper.height * scale)), Image.Resampling.BICUBIC)
    paper = _perspective(paper.convert("RGBA"), rng)
    paper = paper.rotate(rng.uniform(-4, 4), expand=True, resample=Image.Resampling.BICUBIC)
    table.paste(paper, ((width - paper.width) // 2, (height - paper.height) // 2), paper)
    photo = _shadow(table, rng)
    noise = Image.effect_noise(photo.size, rng.uniform(8, 18)).convert("RGB")
    photo = Image.blend(photo, noise, 0.08)
    photo = photo.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.3)))
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=rng.randrange(40, 61))
    return out.getvalue()


def _perspective(image: Image.Image, rng: random.Random) -> Image.Image:
    """Seen a little from below: the far (top) edge narrower than the near one. QUAD takes
    the source corners (upper-left, lower-left, lower-right, upper-right) that land on the
    output's; a source wider at the top shrinks it."""
    w, h = image.size
    d = w * rng.uniform(0.02, 0.06)
    return image.transform((w, h), Image.Transform.QUAD, (-d, 0, 0, h, w, h, w + d, 0), Image.Resampling.BICUBIC)


def _shadow(image: Image.Image, rng: random.Random) -> Image.Image:
    """A soft shadow (a hand, a phone) falling across one side."""
    mask = Image.new("L", image.size, 0)
    draw = ImageDraw.Draw(mask)
    w, h = image.size
    x = rng.uniform(0.3, 0.7) * w
    draw.polygon([(x, 0), (w, 0), (w, h), (x + rng.uniform(-0.2, 0.2) * w, h)], fill=rng.randrange(70, 120))
    mask = mask.filter(ImageFilter.GaussianBlur(w / 25))
    return Image.composite(Image.new("RGB", image.size, (0, 0, 0)), image, mask)


def receipt_pdf(receipt: Receipt) -> bytes:
    """The receipt as a PDF with a text layer (an e-shop's receipt), printed by WeasyPrint."""
    from weasyprint import HTML

    rows = "".join(f"<tr><td>{left}</td><td class=r>{right}</td></tr>" for left, right in receipt.lines)
    html = (f"<html lang={receipt.language}><style>@page {{ size: 110mm 220mm; margin: 5mm }} "
            "body { font: 9pt 'DejaVu Sans Mono' } td { white-space: nowrap } td.r { text-align: right; padding-left: 4mm }</style>"
            f"<body><table>{rows}</table></body></html>")
    return HTML(string=html).write_pdf()
