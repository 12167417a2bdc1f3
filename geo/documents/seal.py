"""The organ's seal (电子印章) as a digital signature of the finished PDF (pyHanko, PAdES).

The set-up creates LawGrid's own certificate authority and, for each enforcement body, a
certificate it issues (`ensure`, `ensure_all`); the private keys are kept in the database
encrypted with the installation's seal passphrase, so every web process can seal. `verify`
says whether a PDF is intact since it was sealed, who sealed it, and whether the seal's
certificate chains to this installation's authority."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import io
import logging
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.infra.errors import Misconfigured, NotFound

log = logging.getLogger("lawgrid.seal")

# One verdict for the CLI, the API, the case file and the party's page: valid only when the file is
# unchanged since its seal AND the seal's certificate chains to this installation's authority (and,
# for a known document, is the sealing body's). Offline the signer cannot be checked: never "valid".
VERDICTS = {
    "valid": "the file is as the organ sealed it",
    "unverified": "unchanged since it was signed, but who signed it was not checked (offline)",
    "untrusted": "unchanged since it was signed, by a certificate this installation did not issue: not the seal",
    "wrong_body": "sealed by a certificate other than the sealing body's",
    "altered": "the file was changed after it was sealed",
    "invalid": "not a sealed LawGrid document",
    "voided": "the document was voided",
}


class _Quiet(logging.Handler):
    """pyHanko's warnings (with tracebacks, for every untrusted certificate) go to our debug log,
    never to the terminal."""

    def emit(self, record: logging.LogRecord) -> None:
        log.debug("%s: %s", record.name, record.getMessage())


def _quiet_library_logs() -> None:
    for name in ("pyhanko", "pyhanko_certvalidator"):
        library = logging.getLogger(name)
        if not any(isinstance(h, _Quiet) for h in library.handlers):
            library.addHandler(_Quiet())
            library.propagate = False


CERT_YEARS = 10


@dataclass(frozen=True)
class SealKey:
    serial: str
    subject: str
    cert_pem: bytes
    key_pem: bytes
    authority_pem: bytes


def _name(common: str, organisation: str) -> x509.Name:
    """A common and an organisation name hold at most 64 bytes of UTF-8 here (21 Chinese
    characters): a longer body name is cut there (its full name is in the document and the
    database)."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "天津市"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _cap(organisation)),
            x509.NameAttribute(NameOID.COMMON_NAME, _cap(common)),
        ]
    )


def _cap(value: str, limit: int = 64) -> str:
    while len(value.encode()) > limit:
        value = value[:-1]
    return value


def _sync(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """pyHanko's blocking calls run an event loop of their own (asyncio.run): where this
    thread already runs one (an async caller), they run on a worker thread instead."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args, **kwargs)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


def _issue(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    authority: bool,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * CERT_YEARS))
        .add_extension(x509.BasicConstraints(ca=authority, path_length=0 if authority else None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=not authority,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=authority,
                crl_sign=authority,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return builder.sign(issuer_key, hashes.SHA256())


def _store(
    session: Session, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, passphrase: bytes, body_id: int | None
) -> None:
    session.execute(
        text(
            """INSERT INTO seal_certificate (serial, body_id, subject, is_authority, cert_pem, key_pem,
                                             not_before, not_after)
               VALUES (:s, :b, :subj, :auth, :c, :k, :nb, :na)"""
        ),
        {
            "s": format(cert.serial_number, "x"),
            "b": body_id,
            "subj": cert.subject.rfc4514_string(),
            "auth": body_id is None,
            "c": cert.public_bytes(serialization.Encoding.PEM).decode(),
            "k": key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(passphrase),
            ).decode(),
            "nb": cert.not_valid_before_utc,
            "na": cert.not_valid_after_utc,
        },
    )


def _authority(session: Session, passphrase: bytes) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('seal_certificate'))"))
    row = session.execute(text("SELECT cert_pem, key_pem FROM seal_certificate WHERE is_authority")).first()
    if row is None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = _name("LawGrid 滨海新区行政执法电子印章签发机构", "天津市滨海新区行政执法监督平台")
        cert = _issue(name, key, name, key, authority=True)
        _store(session, cert, key, passphrase, None)
        return cert, key
    loaded = _private_key(row.key_pem.encode(), passphrase)
    return x509.load_pem_x509_certificate(row.cert_pem.encode()), loaded


def _private_key(pem: bytes, passphrase: bytes) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, passphrase)
    except ValueError:
        raise Misconfigured(
            "the seal keys were made with another seal passphrase: set LAWGRID_SEAL_PASSPHRASE as when they were made",
            zh="电子印章密钥无法解密：本系统的印章口令（LAWGRID_SEAL_PASSPHRASE）与创建密钥时不同，请管理员核对配置",
        ) from None
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def ensure(session: Session, body_id: int, passphrase: bytes) -> SealKey:
    """The body's seal key, created (with the authority, the first time) if it has none."""
    row = session.execute(
        text("SELECT serial, subject, cert_pem, key_pem FROM seal_certificate WHERE body_id = :b"), {"b": body_id}
    ).first()
    authority = session.execute(text("SELECT cert_pem FROM seal_certificate WHERE is_authority")).scalar()
    if row is None or authority is None:
        body = session.execute(
            text(
                "SELECT b.name, u.name AS unit FROM enforcement_body b JOIN enforcement_unit u ON u.id = b.unit_id "
                "WHERE b.id = :b"
            ),
            {"b": body_id},
        ).first()
        if body is None:
            raise NotFound(f"no enforcement body {body_id}")
        ca_cert, ca_key = _authority(session, passphrase)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _issue(_name(body.name, body.unit), key, ca_cert.subject, ca_key, authority=False)
        _store(session, cert, key, passphrase, body_id)
        return ensure(session, body_id, passphrase)
    return SealKey(row.serial, row.subject, row.cert_pem.encode(), row.key_pem.encode(), authority.encode())


def ensure_all(session: Session, passphrase: bytes) -> int:
    """A seal for every enforcement body that has none (the set-up's step); how many were made."""
    missing = session.execute(
        text(
            "SELECT id FROM enforcement_body b "
            "WHERE NOT EXISTS (SELECT 1 FROM seal_certificate s WHERE s.body_id = b.id)"
        )
    ).scalars()
    made = 0
    for body_id in list(missing):
        ensure(session, int(body_id), passphrase)
        made += 1
    return made


def authority_pem(session: Session) -> bytes | None:
    pem = session.execute(text("SELECT cert_pem FROM seal_certificate WHERE is_authority")).scalar()
    return pem.encode() if pem else None


def sign(pdf: bytes, key: SealKey, passphrase: bytes, *, reason: str, location: str, when: dt.datetime) -> bytes:
    """The PDF with the organ's seal: one PAdES signature over the whole file."""
    from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    _private_key(key.key_pem, passphrase)  # a wrong passphrase is a configuration error, said as such
    cert = next(iter(load_certs_from_pemder_data(key.cert_pem)))
    authority = list(load_certs_from_pemder_data(key.authority_pem))
    signer = signers.SimpleSigner(
        signing_cert=cert,
        signing_key=load_private_key_from_pemder_data(key.key_pem, passphrase),
        cert_registry=SimpleCertificateStore.from_certs(authority),  # type: ignore[no-untyped-call]
    )
    meta = signers.PdfSignatureMetadata(
        field_name="OrganSeal", reason=reason, location=location, name=key.subject, md_algorithm="sha256"
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    writer.document_meta.last_modified = when
    out = _sync(signers.PdfSigner(meta, signer).sign_pdf, writer)
    return bytes(out.getvalue())


def verify(pdf: bytes, authority: bytes | None) -> dict[str, Any]:
    """Whether the PDF is intact since its seal, who sealed it and when, and whether the seal's
    certificate is this installation's (trusted). Never raises on a bad file: it says why."""
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    _quiet_library_logs()
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        sigs = reader.embedded_signatures
    except Exception as exc:  # a file that is no PDF at all
        return judged({"intact": False, "signatures": [], "problem": f"not a readable PDF: {exc}"}, "invalid")
    if not sigs:
        return judged({"intact": False, "signatures": [], "problem": "the PDF carries no signature"}, "invalid")
    roots = list(load_certs_from_pemder_data(authority)) if authority else []
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    out = []
    for sig in sigs:
        try:
            status = _sync(validate_pdf_signature, sig, context)
        except (SigningError, ValueError, KeyError) as exc:
            out.append({"field": sig.field_name, "intact": False, "problem": str(exc)})
            continue
        covers_all = status.coverage is not None and status.coverage.name == "ENTIRE_FILE"
        out.append(
            {
                "field": sig.field_name,
                "intact": bool(status.intact and status.valid),
                "covers_whole_file": covers_all,
                "trusted": bool(status.trusted),
                "signer": status.signing_cert.subject.native.get("common_name")
                or status.signing_cert.subject.human_friendly,
                "subject": status.signing_cert.subject.human_friendly,
                "serial": format(status.signing_cert.serial_number, "x"),
                "signed_at": status.signer_reported_dt.isoformat() if status.signer_reported_dt else None,
            }
        )
    intact = all(s.get("intact") and s.get("covers_whole_file") for s in out)
    result: dict[str, Any] = {
        "intact": intact,
        "trusted": intact and all(s.get("trusted") for s in out),
        "signatures": out,
    }
    if not intact:
        result["problem"] = (
            "the file was changed after it was sealed"
            if all(s.get("intact") for s in out)
            else "a signature does not match the file: it was altered"
        )
        return judged(result, "altered")
    if authority is None:
        return judged(result, "unverified")
    return judged(result, "valid" if result["trusted"] else "untrusted")


def judged(result: dict[str, Any], verdict: str) -> dict[str, Any]:
    """The result with its one verdict: `valid` (bool), `verdict` (a code) and `problem` (words,
    None only when valid)."""
    result["verdict"] = verdict
    result["valid"] = verdict == "valid"
    if verdict != "valid":
        result.setdefault("problem", VERDICTS[verdict])
        result["problem"] = result["problem"] or VERDICTS[verdict]
    else:
        result["problem"] = None
    return result
