"""Images decoded before they are kept (issue 33, item 2): the type is what the pixels decode as,
the size is bounded before decoding, and what is shown is LawGrid's own re-encoding."""

from __future__ import annotations

import io
import zlib

import pytest
from PIL import Image, ImageDraw

from geo.infra import images
from geo.infra.errors import InvalidInput


def encoded(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def huge_png(side: int) -> bytes:
    """A white PNG of side × side pixels in a few hundred KB at most (it compresses)."""
    return encoded(Image.new("1", (side, side), 1), "PNG")


def test_a_huge_png_is_refused_before_its_pixels_are_decoded():
    data = huge_png(12_000)
    assert len(data) < 600 * 1024  # small on the wire: what made it a weapon
    with pytest.raises(InvalidInput, match="12000 × 12000 px is too large"):
        images.signature_png(data)
    with pytest.raises(InvalidInput, match="too large"):
        images.photo(encoded(Image.new("1", (13_000, 100), 1), "PNG"))


def test_garbage_behind_a_magic_number_and_html_behind_a_jpeg_header_are_refused():
    for data in (b"\x89PNG\r\n\x1a\n" + b"garbage" * 100, b"\xff\xd8\xff\xe0<html><script>alert(1)</script></html>"):
        with pytest.raises(InvalidInput, match="not a readable image"):
            images.photo(data)
    with pytest.raises(InvalidInput, match="not a readable image"):
        images.signature_png(b"\x89PNG\r\n\x1a\n" + b"garbage" * 100)


def test_a_truncated_png_fails_when_decoded_not_when_shown():
    good = encoded(Image.effect_noise((400, 400), 60).convert("L"), "PNG")
    with pytest.raises(InvalidInput, match="not a readable image"):
        images.signature_png(good[: len(good) // 2])


def test_a_decompression_bomb_within_the_side_limit_is_refused_by_its_pixels():
    # 3,999 × 3,999 is under 4,000 a side but over the 4 million pixels a signature may hold
    with pytest.raises(InvalidInput, match="4,000,000 pixels"):
        images.signature_png(huge_png(3_999))


def test_a_jpeg_is_not_a_signature():
    with pytest.raises(InvalidInput, match="PNG"):
        images.signature_png(encoded(Image.new("RGB", (300, 100), "white"), "JPEG"))


def test_a_signature_is_re_encoded_small_and_greyscale_with_its_ink_kept():
    drawn = Image.new("RGBA", (2_400, 800), (0, 0, 0, 0))  # a transparent pad, as a canvas gives it
    ImageDraw.Draw(drawn).line([(100, 400), (2_300, 380)], fill=(0, 0, 0, 255), width=12)
    kept = images.signature_png(encoded(drawn, "PNG"))
    image = Image.open(io.BytesIO(kept))
    assert image.format == "PNG" and image.mode == "L"
    assert image.size[0] <= 1_200 and image.size[1] <= 600
    darkest, lightest = image.getextrema()
    assert darkest < 64 and lightest == 255  # ink on white, not black on black


def test_a_photo_keeps_its_type_and_gets_a_bounded_jpeg_to_show():
    for fmt, mime in (("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")):
        data = encoded(Image.new("RGB", (4_000, 3_000), "green"), fmt)
        got, shown = images.photo(data)
        assert got == mime
        image = Image.open(io.BytesIO(shown))
        assert image.format == "JPEG" and max(image.size) == 1_600


def test_a_png_claiming_to_be_huge_in_its_header_only_is_refused():
    """The IHDR says 100,000 × 100,000; nothing else is there."""
    ihdr = (100_000).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    chunk = b"IHDR" + ihdr
    data = b"\x89PNG\r\n\x1a\n" + len(ihdr).to_bytes(4, "big") + chunk + zlib.crc32(chunk).to_bytes(4, "big")
    with pytest.raises(InvalidInput):
        images.photo(data)
