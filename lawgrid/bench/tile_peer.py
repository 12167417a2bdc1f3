"""The peer tile server of `bench map`: tipg (OGC API Tiles and Features over PostGIS, from
PyPI), run as a subprocess over the same `target` table through a view with the same
fields as our viewport answer (id, name, first domain, risk). For each viewport it fetches the
256-pixel Web Mercator vector tiles that cover it, as a tile-based map would, and counts the
bytes on the wire (tipg compresses its tiles as a browser asks).

tipg has dependencies of its own (FastAPI, asyncpg), so it lives in a virtualenv of its own,
`.venv-peers` (`make bench-peers`); without it the peer is skipped with a message."""

from __future__ import annotations

import math
import os
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import requests
from sqlalchemy import text
from sqlalchemy.engine import make_url

from lawgrid.screens import free_port

ROOT = Path(__file__).resolve().parents[2]
VIEW = "lawgrid_peer_target"
COLLECTION = f"public.{VIEW}"


def python() -> Path | None:
    """The peers' interpreter, where tipg is installed."""
    exe = Path(os.environ.get("LAWGRID_BENCH_PEERS_VENV", ROOT / ".venv-peers")) / "bin" / "python"
    if not exe.exists():
        return None
    found = subprocess.run([str(exe), "-c", "import tipg, uvicorn"], capture_output=True, check=False)
    return exe if found.returncode == 0 else None


def tiles(bbox: tuple[float, float, float, float], zoom: int) -> list[tuple[int, int]]:
    """The (x, y) of the Web Mercator tiles at `zoom` that cover a lon/lat box."""
    n = 2**zoom

    def tx(lon: float) -> int:
        return int((lon + 180) / 360 * n)

    def ty(lat: float) -> int:
        rad = math.radians(lat)
        return int((1 - math.log(math.tan(rad) + 1 / math.cos(rad)) / math.pi) / 2 * n)

    w, s, e, nn = bbox
    return [(x, y) for x in range(tx(w), tx(e) + 1) for y in range(ty(nn), ty(s) + 1)]


def cql(params: dict) -> str | None:
    """Our viewport filters in CQL2 text over the view's columns (same meaning: any of the
    townships, any of the risks, any domain in common)."""
    parts = []
    if params.get("township"):
        parts.append("township_code IN (" + ",".join(f"'{t}'" for t in params["township"].split(",")) + ")")
    if params.get("risk"):
        parts.append(f"r IN ({params['risk']})")
    if params.get("domain"):
        parts.append("(" + " OR ".join(f"domains_csv LIKE '%,{d},%'" for d in params["domain"].split(",")) + ")")
    return " AND ".join(parts) or None


class Tipg:
    """tipg under uvicorn on a free port, serving the view over the bench database."""

    def __init__(self, exe: Path, engine, url: str):
        self.exe, self.engine, self.url = exe, engine, url
        self.proc: subprocess.Popen | None = None
        self.base = ""
        self.http = requests.Session()
        self.http.headers["Accept-Encoding"] = "br, gzip"  # as a browser asks

    def __enter__(self) -> Tipg:
        with self.engine.begin() as conn:
            conn.execute(text(f"DROP VIEW IF EXISTS {VIEW}"))
            conn.execute(
                text(
                    f"CREATE VIEW {VIEW} AS SELECT id, name, domains[1] AS d, risk_level AS r, "
                    "township_code, ',' || array_to_string(domains, ',') || ',' AS domains_csv, geom FROM target"
                )
            )
        u = make_url(self.url)
        host = quote(str(u.query.get("host") or u.host or "localhost"), safe="")  # a socket directory, encoded
        dsn = f"postgresql://{u.username or 'postgres'}@{host}{':' + str(u.port) if u.port else ''}/{u.database}"
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": dsn,
            "TIPG_DB_TABLES": f'["{COLLECTION}"]',
            "TIPG_DB_SPATIAL_EXTENT": "false",
            "TIPG_DB_DATETIME_EXTENT": "false",
        }
        self.proc = subprocess.Popen(
            [str(self.exe), "-m", "uvicorn", "tipg.main:app", "--port", str(port), "--log-level", "warning"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.http.get(f"{self.base}/collections/{COLLECTION}", timeout=5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError(f"tipg did not come up (exit {self.proc.returncode})")
            time.sleep(0.25)

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(30)
        with self.engine.begin() as conn:
            conn.execute(text(f"DROP VIEW IF EXISTS {VIEW}"))

    def viewport(self, bbox: tuple[float, float, float, float], zoom: int, params: dict) -> dict:
        """Every tile of the viewport in series: total time, each tile's time, bytes on the wire."""
        query = {"properties": "id,name,d,r"}
        if (flt := cql(params)) is not None:
            query["filter"] = flt
        times, wire = [], 0
        for x, y in tiles(bbox, zoom):
            t0 = time.perf_counter()
            r = self.http.get(
                f"{self.base}/collections/{COLLECTION}/tiles/WebMercatorQuad/{zoom}/{x}/{y}",
                params=query,
                stream=True,
                timeout=60,
            )
            body = r.raw.read(decode_content=False)
            times.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 200:
                raise RuntimeError(f"tipg answered {r.status_code} for tile {zoom}/{x}/{y}: {body[:200]!r}")
            wire += len(body)
        return {"ms": sum(times), "tile_ms": times, "bytes": wire}
