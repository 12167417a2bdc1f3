"""Images people send (a signature drawn on the terminal, a photo taken as evidence), decoded
before they are kept: the type is what the pixels decode as, never the first bytes; the size is
bounded before any pixel is decoded (a 140 KB PNG can hold 12,000 × 12,000 pixels); what is
shown or printed is re-encoded by us. Pillow does the decoding.

Limits (stated in the README and the API's errors):
- a signature: a PNG of at most 512 KB, 4,000 px a side and 4 million pixels, kept re-encoded as
  a greyscale PNG of at most 1,200 × 600 px;
- a photo: a JPEG, PNG or WebP of at most 8 MB, 12,000 px a side and 50 million pixels, kept as
  sent (its bytes are the evidence, hashed) with a JPEG of at most 1,600 px a side to display."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

from geo.infra.errors import InvalidInput


@dataclass(frozen=True)
class Limits:
    formats: dict[str, str]  # Pillow's format name -> MIME type
    max_side: int
    max_pixels: int


SIGNATURE = Limits({"PNG": "image/png"}, 4_000, 4_000_000)
PHOTO = Limits({"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}, 12_000, 50_000_000)
SIGNATURE_BOX = (1_200, 600)
DISPLAY_SIDE = 1_600


def decode(raw: bytes, field: str, limits: Limits) -> tuple[Image.Image, str]:
    """The image and its MIME type, or InvalidInput naming the field and the limit broken."""
    kinds = "、".join(limits.formats)
    bounds = f"at most {limits.max_side:,} px a side and {limits.max_pixels:,} pixels"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limits are lower
            image = Image.open(io.BytesIO(raw), formats=list(limits.formats))  # the header only
            width, height = image.size
            if max(width, height) > limits.max_side or width * height > limits.max_pixels:
                raise InvalidInput(f"{field}: {width} × {height} px is too large ({bounds})")
            image.load()  # every pixel decoded: a truncated or corrupt file fails here, not when shown
    except InvalidInput:
        raise
    except Image.DecompressionBombError:  # Pillow's own ceiling, far above ours
        raise InvalidInput(f"{field}: too large ({bounds})") from None
    except (OSError, SyntaxError, ValueError):
        raise InvalidInput(f"{field}: not a readable image of type {kinds}") from None
    mime = limits.formats.get(image.format or "")
    if mime is None:
        raise InvalidInput(f"{field}: not a readable image of type {kinds}")
    return image, mime


def signature_png(raw: bytes, field: str = "image_png") -> bytes:
    """A drawn signature, decoded and re-encoded: greyscale with its transparency, within the box."""
    image, _ = decode(raw, field, SIGNATURE)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        image = image.convert("RGBA")
        flat = Image.new("RGBA", image.size, (255, 255, 255, 255))
        flat.alpha_composite(image)
        image = flat
    image = image.convert("L")
    image.thumbnail(SIGNATURE_BOX)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def photo(raw: bytes, field: str = "image") -> tuple[str, bytes]:
    """(the photo's MIME type as decoded, a JPEG to display it), the photo itself kept as sent."""
    image, mime = decode(raw, field, PHOTO)
    shown = ImageOps.exif_transpose(image).convert("RGB")
    shown.thumbnail((DISPLAY_SIDE, DISPLAY_SIDE))
    out = io.BytesIO()
    shown.save(out, format="JPEG", quality=85)
    return mime, out.getvalue()
