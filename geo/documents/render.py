"""Rendering a filled document to PDF (fpdf2), with a CJK font from the system's packages
(Debian's fonts-noto-cjk) embedded as a subset; nothing is downloaded.

Loading the full 26 MB font costs about 0.3 s per document, so the first use cuts it down once
to the characters of GB 2312 plus ASCII and CJK punctuation (7,700 characters, 2 MB) and keeps
that in the cache directory. A document that needs a character outside it (a rare character in
a party's name) falls back to the full font for that document.

A rendering is reproducible: the same body, meta and time give the same bytes."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import TTFFont

log = logging.getLogger(__name__)

FONT_CANDIDATES = (
    # (path, the face to take from a collection, by its family name)
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", "Noto Serif CJK SC"),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "Noto Sans CJK SC"),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "WenQuanYi Zen Hei"),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", "AR PL UMing CN"),
)
PAGE_W, MARGIN = 210.0, 20.0


def _common_chars() -> set[int]:
    chars = set(range(0x20, 0x7F)) | set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0))
    chars |= {0x00B7, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2026, 0x2116, 0x2160, 0x2212, 0x25A1, 0x2611, 0x2612}
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes([hi, lo]).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return chars


@dataclass
class Fonts:
    """The embedded font: the cached common subset, and the full face as a fallback."""

    cache_dir: Path
    candidates: tuple[tuple[str, str], ...] = FONT_CANDIDATES
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _ready: tuple[Path, Path, int, frozenset[int]] | None = field(default=None, repr=False)

    def ready(self) -> tuple[Path, Path, int, frozenset[int]]:
        """(subset path, full font path, the face's number in it, characters in the subset)."""
        with self._lock:
            if self._ready is None:
                self._ready = self._build()
            return self._ready

    def _build(self) -> tuple[Path, Path, int, frozenset[int]]:
        from fontTools import subset, ttLib

        for path, family in self.candidates:
            source = Path(path)
            if not source.exists():
                continue
            number = _face_number(source, family)
            stat = source.stat()
            key = hashlib.sha256(f"{source}:{stat.st_size}:{stat.st_mtime_ns}:{number}:1".encode()).hexdigest()[:16]
            out = self.cache_dir / f"lawgrid-cjk-{key}.ttf"
            if not out.exists():
                log.info("cutting the common CJK subset of %s (once; kept in %s)", source, out)
                font = ttLib.TTFont(str(source), fontNumber=number, lazy=False)
                options = subset.Options()
                options.layout_features = []
                options.name_IDs = ["*"]
                options.notdef_outline = True
                cutter = subset.Subsetter(options)
                cutter.populate(unicodes=_common_chars())
                cutter.subset(font)
                buffer = io.BytesIO()
                font.save(buffer)
                buffer.seek(0)
                font = _to_truetype(ttLib.TTFont(buffer))
                self.cache_dir.mkdir(parents=True, exist_ok=True)
                tmp = out.with_suffix(f".{threading.get_ident()}.tmp")
                font.save(str(tmp))
                tmp.replace(out)
            cmap = ttLib.TTFont(str(out), lazy=True).getBestCmap()
            return out, source, number, frozenset(cmap)
        raise RuntimeError("no CJK font found: install Debian's fonts-noto-cjk (scripts/install-system-deps.sh does)")


def _to_truetype(font: Any) -> Any:
    """CFF outlines as TrueType quadratics (fontTools' cu2qu): fpdf2 subsets a TrueType font
    without executing every charstring, which makes rendering a document 2-3 times faster."""
    from fontTools import ttLib
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib.tables._g_l_y_f import Glyph

    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    outlines = {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        outlines[name] = pen.glyph() if name != ".null" else Glyph()
    font["loca"] = ttLib.newTable("loca")
    glyf = font["glyf"] = ttLib.newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = outlines
    for table in ("CFF ", "VORG"):
        if table in font:
            del font[table]
    maxp = font["maxp"] = ttLib.newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["head"].glyphDataFormat = 0
    post = font["post"]
    post.formatType, post.extraNames, post.mapping, post.glyphOrder = 2.0, [], {}, order
    font.sfntVersion = "\x00\x01\x00\x00"
    return font


def _face_number(path: Path, family: str) -> int:
    if path.suffix.lower() != ".ttc":
        return 0
    from fontTools import ttLib

    collection = ttLib.TTCollection(str(path), lazy=True)
    for i, face in enumerate(collection.fonts):
        if face["name"].getDebugName(1) == family:
            return i
    return 0


@dataclass
class Page:
    """What a document says, in reading order, for the renderer."""

    organ: str
    title: str
    doc_no: str | None
    rows: list[tuple[str, str]]
    paragraphs: list[str]
    signatures: list[dict[str, Any]] = field(default_factory=list)
    footer: str = ""
    every_page_signature: bytes | None = None
    when: dt.datetime | None = None
    closing: tuple[str, str] | None = None  # 落款: the sealing body's name and the date, in words
    sealed: bool = False  # draw the organ's red seal over the 落款 (the finished, sealed PDF)
    receipt_line: bool = False  # the party's 签收 line (a document served on the party)


def render(fonts: Fonts, page: Page) -> bytes:
    subset_path, full_path, number, known = fonts.ready()
    pdf = FPDF(format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=28)
    if page.when is not None:
        pdf.set_creation_date(page.when)
    pdf.set_title(page.title)
    pdf.set_producer("LawGrid")
    pdf.add_font("cjk", fname=str(subset_path))
    # the subset's glyphs keep their own bounding boxes: recomputing them would expand and
    # recompile every glyph used (80 % of a rendering's time)
    font = pdf.fonts["cjk"]
    if isinstance(font, TTFFont):
        font.ttfont.recalcBBoxes = False
    if any(ord(ch) not in known for ch in _all_text(page)):
        pdf.add_font("cjkfull", fname=str(full_path), collection_font_number=number)
        pdf.set_fallback_fonts(["cjkfull"])
    footer_sig = page.every_page_signature
    footer_text = page.footer

    def footer() -> None:
        pdf.set_y(-22)
        pdf.set_font("cjk", size=8)
        if footer_sig:
            pdf.cell(30, 5, "被询问人签名：")
            pdf.image(io.BytesIO(footer_sig), x=pdf.get_x(), y=pdf.get_y() - 2, h=9)
        pdf.set_y(-12)
        pdf.cell(0, 5, f"{footer_text}  第 {pdf.page_no()} 页 共 {{nb}} 页", align="C")

    pdf.footer = footer  # type: ignore[method-assign]
    pdf.add_page()
    width = PAGE_W - 2 * MARGIN
    pdf.set_font("cjk", size=16)
    pdf.cell(width, 9, page.organ, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=20)
    pdf.cell(width, 12, page.title, align="C", new_x="LMARGIN", new_y="NEXT")
    if page.doc_no:
        pdf.set_font("cjk", size=12)
        pdf.cell(width, 8, page.doc_no, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("cjk", size=12)
    for label, value in page.rows:
        pdf.multi_cell(width, 7.5, f"{label}：{value}", new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(1)
    pdf.ln(2)
    for paragraph in page.paragraphs:
        pdf.multi_cell(width, 7.5, "　　" + paragraph, new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(1)
    if page.signatures:
        pdf.ln(4)
        needed = 22.0 * len(page.signatures)
        if pdf.get_y() + needed > 262 and needed < 230:  # the signatures stay together: none alone
            pdf.add_page()
        for sig in page.signatures:
            _signature(pdf, width, sig)
    if page.closing:
        _closing(pdf, width, page.closing, page.sealed)
    if page.receipt_line:
        if pdf.get_y() > 255:
            pdf.add_page()
        pdf.ln(6)
        pdf.set_font("cjk", size=12)
        pdf.cell(width, 8, "受送达人签收：＿＿＿＿＿＿＿＿　　　　年　　月　　日", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


SEAL_RED = (200, 16, 16)
SEAL_R = 20.0  # mm: a 42 mm organ seal


def _closing(pdf: FPDF, width: float, closing: tuple[str, str], sealed: bool) -> None:
    """落款: the body's name and the date on the right; sealed, the body's red seal over them."""
    if pdf.get_y() > 230:  # the 落款 and its seal do not fit: on the next page, said so (GB/T 9704)
        pdf.add_page()
        pdf.set_font("cjk", size=12)
        pdf.cell(width, 8, "（此页无正文）", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    name, date = closing
    pdf.set_font("cjk", size=12)
    top = pdf.get_y()
    pdf.cell(width, 8, name, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(width, 8, date, align="R", new_x="LMARGIN", new_y="NEXT")
    if sealed:
        right = MARGIN + width
        label = max(pdf.get_string_width(name), pdf.get_string_width(date))
        _seal(pdf, name, right - label / 2, top + 8)
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)


def _seal(pdf: FPDF, name: str, cx: float, cy: float) -> None:
    """The organ's seal as it is printed: a red ring, the body's name along its upper arc,
    a five-pointed star in the middle."""
    import math

    pdf.set_draw_color(*SEAL_RED)
    pdf.set_fill_color(*SEAL_RED)
    pdf.set_text_color(*SEAL_RED)
    pdf.set_line_width(1.0)
    pdf.circle(x=cx, y=cy, radius=SEAL_R, style="D")
    star = []
    for k in range(10):
        radius = 5.5 if k % 2 == 0 else 2.2
        angle = math.radians(90 + 36 * k)
        star.append((cx + radius * math.cos(angle), cy - radius * math.sin(angle)))
    pdf.polygon(star, style="F")
    chars = list(name)[:24]
    span = min(240.0, 20.0 * len(chars))
    size = 11 if len(chars) <= 14 else 8
    pdf.set_font("cjk", size=size)
    for i, ch in enumerate(chars):
        theta = 90 + span / 2 - (span * (i + 0.5) / len(chars))
        rad = math.radians(theta)
        x = cx + (SEAL_R - 4.2) * math.cos(rad)
        y = cy - (SEAL_R - 4.2) * math.sin(rad)
        with pdf.rotation(theta - 90, x, y):
            w = pdf.get_string_width(ch)
            pdf.text(x - w / 2, y + size * 0.35 / 2.83, ch)
    pdf.set_line_width(0.2)


def _signature(pdf: FPDF, width: float, sig: dict[str, Any]) -> None:
    if pdf.get_y() > 240:
        pdf.add_page()
    pdf.set_font("cjk", size=11)
    pdf.cell(32, 8, f"{sig['role']}：")
    if sig.get("image"):
        pdf.image(io.BytesIO(sig["image"]), x=pdf.get_x(), y=pdf.get_y() - 3, h=14)
        pdf.set_x(pdf.get_x() + 48)
    else:
        pdf.set_x(pdf.get_x() + 4)
    pdf.multi_cell(width - 84, 5.5, sig["caption"], new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(6)


def _all_text(page: Page) -> str:
    parts = [page.organ, page.title, page.doc_no or "", page.footer, *page.paragraphs]
    parts += [f"{a}{b}" for a, b in page.rows]
    parts += [str(s.get("caption", "")) + str(s.get("role", "")) for s in page.signatures]
    return "".join(parts) + "第页共被询问人签名："


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
