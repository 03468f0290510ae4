"""Receipt-like pictures for the near-duplicate tests, drawn with Pillow, and the ways a
reseller alters a copy: re-encoded, resized, cropped, brighter or darker.

A shop ``template`` fixes the layout (logo, name, address, column positions, footer); a
``receipt`` of that template differs only in what a real one would: the items, amounts,
date, receipt number and the total. Pictures are photographed-looking: a slightly grey
paper on a darker table, mild blur and sensor noise.
"""
from __future__ import annotations

import io
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

SIZE = (900, 1400)
ITEMS = ["USB-C cable 1 m", "Phone case, clear", "Screen protector", "Charger 33 W", "SIM tool", "Earphones",
         "Redmi Note 13 128 GB", "Galaxy A15 4/128", "Warranty 1 year", "Power bank 10000", "Memory card 64 GB",
         "Car holder", "Insurance plan", "Setup service", "Gift bag", "Stylus pen", "Smart band 8", "Adapter"]


@dataclass(frozen=True)
class Template:
    """What every receipt of one shop shares."""

    shop: str
    address: str
    logo_color: tuple[int, int, int]
    paper: int
    margin: int


def template(seed: int = 1) -> Template:
    rng = random.Random(seed)
    return Template(shop=rng.choice(["MOBILE WORLD", "TECHNOPOINT", "SVYAZNOY+", "PHONE HOUSE"]),
                    address=f"{rng.randrange(1, 200)} Market Street, shop {rng.randrange(1, 90)}",
                    logo_color=tuple(rng.randrange(0, 200) for _ in range(3)), paper=rng.randrange(235, 250),
                    margin=rng.randrange(60, 90))


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size)


def receipt(shop: Template, seed: int, items: int | None = None) -> Image.Image:
    """One receipt of ``shop``: its own items (``items`` lines, else 3 to 10), prices, date,
    number and total."""
    rng = random.Random(seed * 7919 + 17)
    paper = Image.new("RGB", SIZE, (shop.paper,) * 3)
    draw = ImageDraw.Draw(paper)
    left, right = shop.margin, SIZE[0] - shop.margin
    draw.ellipse((SIZE[0] // 2 - 70, 40, SIZE[0] // 2 + 70, 180), fill=shop.logo_color)
    draw.text((SIZE[0] // 2, 110), shop.shop[:1], font=_font(90), fill="white", anchor="mm")
    draw.text((SIZE[0] // 2, 220), shop.shop, font=_font(48), fill="black", anchor="mm")
    draw.text((SIZE[0] // 2, 275), shop.address, font=_font(26), fill=(60, 60, 60), anchor="mm")
    draw.text((left, 330), f"Receipt No {rng.randrange(10000, 99999)}", font=_font(28), fill="black")
    draw.text((right, 330), f"{rng.randrange(1, 29):02d}.{rng.randrange(1, 13):02d}.2026 {rng.randrange(9, 21)}:"
              f"{rng.randrange(60):02d}", font=_font(28), fill="black", anchor="ra")
    draw.line((left, 380, right, 380), fill="black", width=3)
    y, total = 410, 0
    for _ in range(items or rng.randrange(3, 11)):
        price = rng.randrange(300, 60000)
        total += price
        draw.text((left, y), rng.choice(ITEMS), font=_font(30), fill="black")
        draw.text((right, y), f"{price:,}.00", font=_font(30), fill="black", anchor="ra")
        y += 52
    draw.line((left, y + 10, right, y + 10), fill="black", width=3)
    draw.text((left, y + 40), "TOTAL", font=_font(52), fill="black")
    draw.text((right, y + 40), f"{total:,}.00", font=_font(52), fill="black", anchor="ra")
    draw.text((left, y + 130), f"Card **** {rng.randrange(1000, 9999)}", font=_font(28), fill=(40, 40, 40))
    for x in range(left, right, 7):  # a barcode of the receipt number
        if rng.random() < 0.5:
            draw.rectangle((x, SIZE[1] - 230, x + rng.randrange(2, 6), SIZE[1] - 130), fill="black")
    draw.text((SIZE[0] // 2, SIZE[1] - 80), "Thank you for your purchase!", font=_font(30), fill="black", anchor="mm")
    return _photographed(paper, rng)


def _photographed(paper: Image.Image, rng: random.Random) -> Image.Image:
    """The paper on a table, a little blurred, with sensor noise."""
    table = Image.new("RGB", (SIZE[0] + 120, SIZE[1] + 120), (96, 80, 64))
    table.paste(paper, (60, 60))
    photo = table.filter(ImageFilter.GaussianBlur(1.0))
    noise = Image.effect_noise(photo.size, 20).convert("RGB")
    return Image.blend(photo, noise, 0.06)


def jpeg(image: Image.Image, quality: int = 92) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# -- what a reseller does to a copy -------------------------------------------------------


def reencoded(image: Image.Image, quality: int = 85) -> Image.Image:
    return decoded(jpeg(image, quality))


def resized(image: Image.Image, percent: float) -> Image.Image:
    """``percent`` larger (or smaller when negative), both sides, re-encoded."""
    factor = 1 + percent / 100
    size = (round(image.width * factor), round(image.height * factor))
    return reencoded(image.resize(size, Image.Resampling.LANCZOS))


def cropped(image: Image.Image, percent: float, edge: str = "bottom") -> Image.Image:
    """``percent`` of the picture cut off one edge, re-encoded."""
    cut_x, cut_y = round(image.width * percent / 100), round(image.height * percent / 100)
    box = {"left": (cut_x, 0, image.width, image.height), "right": (0, 0, image.width - cut_x, image.height),
           "top": (0, cut_y, image.width, image.height), "bottom": (0, 0, image.width, image.height - cut_y)}[edge]
    return reencoded(image.crop(box))


def brightened(image: Image.Image, percent: float) -> Image.Image:
    return reencoded(ImageEnhance.Brightness(image).enhance(1 + percent / 100))
