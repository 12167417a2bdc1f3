"""Documents that look like documents (issue 34, item 6), checked as a person would look at them:
the sealed 行政处罚决定书 and a signed 当场行政处罚决定书 rendered to PNG and compared with reference
images kept in tests/reference (the heading is the sealing body, the 落款 with its date and the red
seal over it, the party's 签收 line, signatures kept together, no hashes or device ids in the
text). The references were made by this same test with LAWGRID_UPDATE_REFERENCES=1 and looked at."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageStat

from geo.documents import filling, render, templates
from lawgrid.runtime import fonts
from lawgrid.settings import Settings

REFERENCES = Path(__file__).resolve().parents[2] / "reference"
WHEN = dt.datetime(2026, 12, 2, 2, 15, tzinfo=dt.UTC)  # 10:15 in Beijing
TOLERANCE = 3.0  # mean difference per channel (0-255): a glyph moved or a stroke missing is far more


def template(code: str, version: int = 1) -> templates.Template:
    return next(t for t in templates.parse_file(templates.SEED_FILE) if t.code == code and t.version == version)


CTX = {"organ.name": "天津市滨海新区市场监督管理局", "organ.body_id": 1}


def png_pages(pdf: bytes) -> list[Image.Image]:
    """Each page as pdftoppm (poppler) draws it at 40 dpi."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", "40", "-png", "-", f"{tmp}/page"], input=pdf, check=True)
        return [Image.open(p).convert("RGB") for p in sorted(Path(tmp).glob("page-*.png"))]


def hand(name: str) -> bytes:
    image = Image.new("L", (240, 80), 255)
    ImageDraw.Draw(image).line([(10, 60), (60, 15), (110, 62), (170, 18), (230, 50)], fill=0, width=4)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def signature(kind: str, name: str, ref: str | None = None) -> dict:
    return {
        "signer_kind": kind,
        "signer_name": name,
        "signer_ref": ref,
        "method": "handwritten_capture",
        "signed_at": "2026-12-02T02:20:00+00:00",
        "image": hand(name),
        "doc_hash_at_signing": "ab" * 32,
        "device_id": 101,
        "lat": 39.02,
        "lon": 117.7,
    }


def compare(name: str, pdf: bytes) -> list[Image.Image]:
    pages = png_pages(pdf)
    for i, page in enumerate(pages):
        reference = REFERENCES / f"{name}-{i + 1}.png"
        if os.environ.get("LAWGRID_UPDATE_REFERENCES") == "1":
            page.save(reference)
            continue
        assert reference.exists(), f"no reference image {reference}: make it with LAWGRID_UPDATE_REFERENCES=1"
        expected = Image.open(reference).convert("RGB")
        assert expected.size == page.size, (name, i, expected.size, page.size)
        difference = max(ImageStat.Stat(ImageChops.difference(expected, page)).mean)
        assert difference < TOLERANCE, f"{name} page {i + 1} differs from its reference by {difference:.2f}"
    if os.environ.get("LAWGRID_UPDATE_REFERENCES") != "1":
        assert len(pages) == len(list(REFERENCES.glob(f"{name}-*.png"))), "a page more or less than the reference"
    return pages


def red_pixels(image: Image.Image) -> int:
    return sum(1 for r, g, b in image.convert("RGB").get_flattened_data() if r > 150 and g < 90 and b < 90)


def test_the_sealed_decision_looks_like_a_decision():
    kit_fonts = fonts(Settings().font_cache_dir)
    spec = template("penalty_decision")
    body = {
        "party_name": "天津滨海某某便利店",
        "party_id_no": "91120116MA05K0XX1Q",
        "party_address": "天津市滨海新区中新生态城和畅路1号",
        "case_no": "津滨U001立〔2026〕12号",
        "facts": "经查，当事人超出明码标价销售商品，有价签照片、销售小票为证。",
        "statements": "当事人未提出陈述、申辩。",
        "violated": "《中华人民共和国价格法》第十三条",
        "basis": "《价格违法行为行政处罚规定》第十三条",
        "discretion": "初次违法、及时改正，按从轻档",
        "penalty": "罚款人民币5,000元",
        "decided_on": "2026-12-02",
        "review_organ": "天津市滨海新区人民政府",
    }
    sealed = filling.page(spec, CTX, body, "津滨U001罚决〔2026〕12号", [], WHEN, sealed=True)
    unsealed = filling.page(spec, CTX, body, "津滨U001罚决〔2026〕12号", [], WHEN)
    pdf = render.render(kit_fonts, sealed)
    pages = compare("decision-sealed", pdf)
    assert red_pixels(pages[-1]) > 200  # the red seal is on the last page
    assert red_pixels(png_pages(render.render(kit_fonts, unsealed))[-1]) == 0  # not before it is sealed
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True).stdout.decode()
    flat = "".join(text.split())
    assert "天津市滨海新区市场监督管理局" in flat and "2026年12月2日" in flat and "受送达人签收" in flat
    assert "SHA-256" not in text and "设备" not in text


def test_a_signed_onsite_decision_keeps_its_signatures_together():
    kit_fonts = fonts(Settings().font_cache_dir)
    spec = template("onsite_decision")
    body = {
        "party_name": "张某",
        "facts": "当场查实未按规定明码标价，涉及商品12种。" * 3,
        "basis": "《价格违法行为行政处罚规定》第十三条",
        "penalty": "罚款人民币1,500元",
        "payment": "自收到本决定书之日起十五日内，持缴款码到代收银行或通过电子支付缴纳",
        "decided_at": "2026-12-02T10:15:00+08:00",
        "place": "天津市滨海新区和畅路1号店内",
        "officers": "李明（执法证号 12011600001）、王强（执法证号 12011600002）",
        "review_organ": "天津市滨海新区人民政府",
    }
    sigs = [
        signature("officer", "李明", "12011600001"),
        signature("officer", "王强", "12011600002"),
        signature("party", "张某", "120116199001011234"),
    ]
    pdf = render.render(kit_fonts, filling.page(spec, CTX, body, "津滨U001当罚〔2026〕7号", sigs, WHEN, sealed=True))
    pages_drawn = compare("onsite-signed", pdf)
    assert red_pixels(pages_drawn[-1]) > 200  # the organ's seal on the 落款
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True).stdout.decode()
    pages = text.split("\f")
    holding = [i for i, p in enumerate(pages) if "10时20分" in p]
    assert len(set(holding)) == 1  # all three on one page: none left alone
    assert "SHA-256" not in text and "设备" not in text and "120116199001011234" not in text
