"""Reading registry files (CSV, XLSX, GeoJSON, GeoPackage, Shapefile) into rows that keep
their source line numbers, with column mapping from Chinese or English headers."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

TABULAR = {".csv", ".txt", ".xlsx", ".xlsm"}
SPATIAL = {".geojson", ".json", ".gpkg", ".shp", ".zip"}


class ImportFileError(ValueError):
    """The file as a whole cannot be read (not a row-level problem)."""


@dataclass
class SourceRow:
    line: int  # 1-based line (CSV/XLSX row, header = 1) or feature number
    values: dict[str, object]
    problem: str | None = None  # a row the file itself spoiled (NUL bytes, control characters)


MAX_UNPACKED_BYTES = 512 * 1024 * 1024  # an XLSX (a zip) that unpacks to more is refused unread
MAX_ROWS = 2_000_000
CONTROL = {chr(c) for c in range(32)} - {"\t", "\n", "\r"} | {"\x7f"}


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding) of a CSV as people's tools write it: UTF-8 with or without a BOM, or
    GB18030 (a superset of GBK: what Excel saves as CSV on a Chinese Windows)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "UTF-8 (BOM)"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "GB18030/GBK"
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"the file is neither UTF-8 nor GB18030/GBK text (byte {exc.start})") from None


def read_xlsx(path: Path) -> pd.DataFrame:
    """The first sheet in openpyxl's streaming mode (bounded memory), after refusing a file
    that unpacks to more than MAX_UNPACKED_BYTES; trailing empty rows are not read."""
    import zipfile

    from openpyxl import load_workbook

    with zipfile.ZipFile(path) as archive:
        unpacked = sum(member.file_size for member in archive.infolist())
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportFileError(f"unpacks to {unpacked / 2**20:,.0f} MB (more than {MAX_UNPACKED_BYTES // 2**20} MB)")
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else f"column{i + 1}" for i, h in enumerate(next(rows, ()))]
        data, blank_run = [], 0
        for values in rows:
            if all(v is None or str(v).strip() == "" for v in values):
                blank_run += 1
                if blank_run > 1000:  # a sheet whose declared size runs far past its data
                    break
                data.append([""] * len(header))
                continue
            blank_run = 0
            data.append(["" if v is None else str(v) for v in values[: len(header)]])
            if len(data) > MAX_ROWS:
                raise ImportFileError(f"more than {MAX_ROWS:,} rows; split the file")
        while data and not any(data[-1]):
            data.pop()
    finally:
        book.close()
    return pd.DataFrame(data, columns=header, dtype=str)


@dataclass
class ImportReport:
    kind: str
    path: Path
    loaded: int = 0
    inserted: int = 0
    updated: int = 0
    rejects: list[tuple[int, str]] = field(default_factory=list)
    reject_file: Path | None = None
    notes: list[str] = field(default_factory=list)
    generated: list[tuple[str, str]] = field(default_factory=list)  # (device, the key made for it)
    keys_file: Path | None = None

    def reject(self, line: int, reason: str) -> None:
        self.rejects.append((line, reason))

    def write_rejects(self, path: Path | None = None) -> None:
        if not self.rejects:
            return
        self.reject_file = path or self.path.with_name(self.path.name + ".rejects.csv")
        with open(self.reject_file, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["line", "reason"])
            writer.writerows(sorted(self.rejects))

    def write_generated(self) -> None:
        """The keys made for devices that had none, for the operator to put in the phones' server
        URLs: in a file only its owner may read, never in the log or the audit."""
        if not self.generated:
            return
        self.keys_file = self.path.with_name(self.path.name + ".keys.csv")
        fd = os.open(self.keys_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["identifier", "device_key", "server_url_path"])
            writer.writerows((ident, key, f"/k/{key}") for ident, key in self.generated)

    def summary(self) -> str:
        text = (
            f"{self.kind}: {self.loaded} loaded ({self.inserted} new, {self.updated} updated), "
            f"{len(self.rejects)} rejected"
        )
        if self.reject_file:
            text += f"; reasons with line numbers in {self.reject_file}"
        if self.keys_file:
            text += (
                f"\n  {len(self.generated)} OsmAnd devices had no key: keys made, in {self.keys_file} "
                "(each phone's server URL is http://HOST:PORT/k/KEY)"
            )
        for note in self.notes:
            text += f"\n  note: {note}"
        return text

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "loaded": self.loaded,
            "inserted": self.inserted,
            "updated": self.updated,
            "rejected": len(self.rejects),
            "reject_file": str(self.reject_file) if self.reject_file else None,
            "keys_generated": len(self.generated),
        }


def normalise_header(name: object) -> str:
    return str(name).strip().lower().replace(" ", "_").replace("-", "_")


def apply_mapping(
    columns: list[str], synonyms: dict[str, tuple[str, ...]], explicit: dict[str, str] | None = None
) -> dict[str, str]:
    """Map file columns to field names: explicit SRC=FIELD pairs first, then synonyms."""
    mapping: dict[str, str] = {}
    explicit = {normalise_header(k): v for k, v in (explicit or {}).items()}
    for col in columns:
        norm = normalise_header(col)
        if norm in explicit:
            mapping[col] = explicit[norm]
            continue
        for field_name, names in synonyms.items():
            if norm == field_name or norm in names:
                mapping.setdefault(col, field_name)
                break
    return mapping


def read_rows(
    path: Path,
    synonyms: dict[str, tuple[str, ...]],
    explicit: dict[str, str] | None = None,
    notes: list[str] | None = None,
) -> tuple[list[SourceRow], str | None]:
    """Rows with mapped field names; spatial files add lon/lat of point geometries. A row with
    NUL bytes or control characters comes back with its problem (reported, not fatal).

    Returns the rows and the CRS of a spatial file (None for tabular files)."""
    if not path.exists():
        raise ImportFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    crs = None
    try:
        if suffix in {".csv", ".txt"}:
            import io

            content, encoding = decode_text(path.read_bytes())
            if notes is not None and encoding != "UTF-8":
                notes.append(f"read as {encoding}")
            frame = pd.read_csv(io.StringIO(content), dtype=str, keep_default_na=False)
            first_line = 2
        elif suffix in {".xlsx", ".xlsm"}:
            frame = read_xlsx(path)
            first_line = 2
        elif suffix in SPATIAL:
            import geopandas as gpd

            gdf = gpd.read_file(path)
            crs = gdf.crs.to_string() if gdf.crs else None
            if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
                gdf = gdf.to_crs(4326)
            frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
            points = gdf.geometry
            frame["__lon"] = [g.x if g is not None and g.geom_type == "Point" else None for g in points]
            frame["__lat"] = [g.y if g is not None and g.geom_type == "Point" else None for g in points]
            first_line = 1
        else:
            raise ImportFileError(
                f"{path}: unsupported file type {suffix!r}; use CSV, XLSX, GeoJSON, GeoPackage or Shapefile"
            )
    except ImportFileError:
        raise
    except Exception as exc:  # the file itself is unreadable: say so, in one line
        raise ImportFileError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from exc
    columns = [c for c in frame.columns if not str(c).startswith("__")]
    mapping = apply_mapping(columns, synonyms, explicit)
    mapping.update({"__lon": "lon", "__lat": "lat"} if "__lon" in frame.columns else {})
    renamed = frame[list(mapping)].rename(columns=mapping)
    renamed = renamed.loc[:, ~renamed.columns.duplicated()]
    rows = [
        SourceRow(first_line + i, {k: _clean(v) for k, v in rec.items()}, _problem(rec))
        for i, rec in enumerate(renamed.to_dict("records"))
    ]
    return rows, crs


def _problem(record: dict[str, object]) -> str | None:
    for key, value in record.items():
        if isinstance(value, str) and not CONTROL.isdisjoint(value):
            kind = "a NUL byte" if "\x00" in value else "a control character"
            return f"{key} contains {kind}"
    return None


def _clean(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, float) and pd.isna(value):
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def split_list(value: object) -> list[str]:
    if value is None:
        return []
    text = str(value)
    for sep in ("；", "、", "，", ";", "|", ","):
        text = text.replace(sep, " ")
    return [p for p in text.split() if p]
