"""Is a picture a screenshot? A screen grab carries no camera metadata and has exactly the
pixel size of a screen; a photo of paper (a receipt) or of a box comes from a camera, at a
camera's size. Either test alone is weak (metadata is stripped by messengers, photos get
cropped); both together rarely happen to a photo.
"""
from __future__ import annotations

#: common screen sizes in pixels (short side, long side): phones, tablets, desktops
SCREEN_SIZES = frozenset({
    # phones
    (640, 1136), (750, 1334), (828, 1792), (1125, 2436), (1242, 2208), (1242, 2688), (1080, 2340),
    (1170, 2532), (1179, 2556), (1284, 2778), (1290, 2796), (1206, 2622), (1320, 2868),
    (720, 1280), (720, 1440), (720, 1520), (720, 1560), (720, 1600), (720, 1612), (720, 1650),
    (1080, 1920), (1080, 2160), (1080, 2220), (1080, 2280), (1080, 2310), (1080, 2400),
    (1080, 2408), (1080, 2412), (1080, 2436), (1080, 2460), (1080, 2520), (1080, 2640),
    (1440, 2560), (1440, 2880), (1440, 2960), (1440, 3040), (1440, 3088), (1440, 3120),
    (1440, 3200), (1220, 2712), (1260, 2800), (1264, 2780), (1344, 2992),
    # tablets
    (768, 1024), (1536, 2048), (1620, 2160), (1640, 2360), (1668, 2224), (1668, 2388),
    (2048, 2732), (1200, 1920), (1600, 2560), (1800, 2880),
    # desktops and laptops
    (768, 1366), (864, 1536), (900, 1440), (900, 1600), (1050, 1680), (1080, 1920),
    (1200, 1920), (1440, 2560), (1600, 2560), (1800, 2880), (1664, 2560), (2160, 3840),
    (800, 1280), (1440, 3440),
})
#: EXIF fields a camera writes
CAMERA_FIELDS = ("make", "model")


def is_screenshot(width: int | None, height: int | None, exif: dict | None) -> bool | None:
    """True for a picture with no camera metadata at a screen's exact size; None when not a picture."""
    if not width or not height:
        return None
    if any((exif or {}).get(name) for name in CAMERA_FIELDS):
        return False
    return (min(width, height), max(width, height)) in SCREEN_SIZES
