"""Documents in a database of their own: N on-the-spot decisions, each drafted from its case,
numbered from the unit's block and rendered to PDF (`geo.documents.issue`: the template, the
case's values, the number, fpdf2 with the embedded CJK subset, the hash, the row), then
signed by two officers and the party, sealed (pyHanko) and verified.

Baseline, alongside: the same rows of text rendered by fpdf2 alone with the same font, no
database, no template, no number. Targets: fill + number + render p95 <= 300 ms; verify p95
<= 100 ms."""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import time

from sqlalchemy import text

from demo.seed import seed_organisation, seed_targets
from geo.access import accounts
from geo.cases import filing, forms, machine, workdays
from geo.documents import drafting, filling, reading, render, signing
from geo.documents import forms as documents_forms
from geo.infra import db
from geo.places.reference import load_reference
from lawgrid.bench import bench_database
from lawgrid.runtime import REFERENCE_DIR

SAMPLES = 60


def _log(msg: str) -> None:
    print(f"[bench documents] {msg}", file=sys.stderr, flush=True)


def _p(values: list[float], q: int) -> float:
    return round(statistics.quantiles(values, n=100)[q - 1], 1)


def _png() -> str:
    import base64
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (360, 120), "white")
    ImageDraw.Draw(img).line([(20, 90), (90, 30), (160, 95), (240, 25), (330, 80)], fill="black", width=5)
    out = io.BytesIO()
    img.save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def run(runtime, args) -> dict:
    n = SAMPLES
    url = bench_database(runtime)
    db.upgrade(url)
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    kit = runtime.documents
    t0 = time.perf_counter()
    kit.fonts.ready()
    font_s = time.perf_counter() - t0
    _log(f"font ready in {font_s:.1f} s; seeding the organisation and {n} on-the-spot cases")
    with db.session_scope(sessions) as s:
        load_reference(s, REFERENCE_DIR)
        workdays.ensure_provisional(s)
        seed_organisation(s, officers=300, seed=3)
        seed_targets(s, targets=1000, seed=args.seed, progress=False)
        s.execute(text("UPDATE officer SET cert_valid_from = CURRENT_DATE - 200, cert_valid_to = CURRENT_DATE + 400"))
        unit, officer_ids, body_name = s.execute(
            text(
                """SELECT u.id, (SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM officer WHERE unit_id = u.id
                                                                    ORDER BY id LIMIT 2) o), b.name
                   FROM enforcement_unit u JOIN power_item p ON p.unit_id = u.id
                   JOIN enforcement_body b ON b.unit_id = u.id
                   WHERE p.item_code = 'market_regulation.04' ORDER BY u.id LIMIT 1"""
            )
        ).one()
        users = []
        for i, officer in enumerate(officer_ids):
            cert = s.execute(text("SELECT cert_no FROM officer WHERE id = :o"), {"o": officer}).scalar_one()
            uid = accounts.create_user(
                s, f"bench-officer-{i}", "bench-Passw0rd!-long", "officer", [], officer_cert=cert
            )
            users.append(
                accounts.Scope(int(uid), f"bench-officer-{i}", "officer", frozenset({unit}), officer_id=officer)
            )
        ids = []
        for i in range(n):
            case = filing.open_onsite(
                s,
                users[0],
                machine.validate(
                    forms.OnsiteCase,
                    {
                        "party": {"kind": "legal", "name": f"滨海新区某某商店{i}号", "id_no": "91120116MA05K0XX1Q"},
                        "item_code": "market_regulation.04",
                        "officer_ids": list(officer_ids),
                        "facts": "当场查实未按规定明码标价，涉及商品12种，现场拍照3张",
                        "penalty": {"kinds": ["fine"], "fine_yuan": 1500, "base_yuan": 1000},
                        "rights_told": True,
                    },
                ),
            )
            ids.append(case["id"])
    fields = {"decided_at": "2026-12-02T10:15:00+08:00", "place": "天津市滨海新区和畅路1号店内"}
    issue_ms, sign_ms, seal_ms, verify_ms, baseline_ms = [], [], [], [], []
    sealed_pdfs: list[bytes] = []
    sample_page = None
    for i, case_id in enumerate(ids):
        with db.session_scope(sessions) as s:
            t0 = time.perf_counter()
            doc = drafting.draft(
                s,
                users[0],
                documents_forms.Draft.model_validate(
                    {"template": "onsite_decision", "case_id": case_id, "fields": fields}
                ),
            )
            doc = drafting.issue(s, users[0], kit, doc["id"], documents_forms.Issue.model_validate({}))
            issue_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            for who in users:
                signing.sign(
                    s,
                    who,
                    doc["id"],
                    documents_forms.Sign.model_validate(
                        {"signer_kind": "officer", "doc_sha256": doc["pdf_sha256"], "image_png": _png()}
                    ),
                )
            signing.sign(
                s,
                users[0],
                doc["id"],
                documents_forms.Sign.model_validate(
                    {
                        "signer_kind": "party",
                        "signer_name": "张某",
                        "doc_sha256": doc["pdf_sha256"],
                        "image_png": _png(),
                    }
                ),
            )
            sign_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            signing.seal_document(s, users[0], kit, doc["id"])
            seal_ms.append((time.perf_counter() - t0) * 1000)
            data, _ = reading.pdf(s, users[0], kit, doc["id"])
            sealed_pdfs.append(data)
            if sample_page is None:
                from geo.documents import templates

                template = templates.get(s, "onsite_decision")
                ctx = filling.context(s, case_id, None)
                sample_page = filling.page(template, ctx, doc["body"], doc["doc_no"], [], dt.datetime.now(dt.UTC))
        # the library alone: the same rows of text, the same font, nothing else
        assert sample_page is not None
        t0 = time.perf_counter()
        render.render(kit.fonts, sample_page)
        baseline_ms.append((time.perf_counter() - t0) * 1000)
        if (i + 1) % 20 == 0:
            _log(f"{i + 1}/{n} documents")
    with db.session_scope(sessions) as s:
        for data in sealed_pdfs:
            t0 = time.perf_counter()
            result = reading.verify_file(s, data)
            verify_ms.append((time.perf_counter() - t0) * 1000)
            assert result["intact"] and result["trusted"], result
    from geo.documents import seal

    with db.session_scope(sessions) as s:
        authority = seal.authority_pem(s)
    bare_verify = []
    for data in sealed_pdfs:
        t0 = time.perf_counter()
        seal.verify(data, authority)
        bare_verify.append((time.perf_counter() - t0) * 1000)
    engine.dispose()
    return {
        "bench": "documents",
        "documents": n,
        "body": body_name,
        "font_ready_s": round(font_s, 1),
        "p50_fill_number_render_ms": _p(issue_ms, 50),
        "p95_fill_number_render_ms": _p(issue_ms, 95),
        "baseline": "fpdf2 alone rendering the same rows with the same font (no database, template or number)",
        "baseline_p50_render_ms": _p(baseline_ms, 50),
        "baseline_p95_render_ms": _p(baseline_ms, 95),
        "ratio": round(_p(issue_ms, 95) / max(_p(baseline_ms, 95), 0.1), 2),
        "p95_three_signatures_ms": _p(sign_ms, 95),
        "p95_seal_ms": _p(seal_ms, 95),
        "p50_verify_ms": _p(verify_ms, 50),
        "p95_verify_ms": _p(verify_ms, 95),
        "baseline_verify": "pyHanko's validation alone, no database lookup",
        "baseline_p95_verify_ms": _p(bare_verify, 95),
        "mean_pdf_kb": round(sum(map(len, sealed_pdfs)) / len(sealed_pdfs) / 1024, 1),
        "target": "fill + number + render p95 <= 300 ms; verify p95 <= 100 ms",
    }
