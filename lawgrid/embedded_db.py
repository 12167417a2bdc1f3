"""The embedded PostgreSQL + PostGIS cluster used when LAWGRID_DATABASE_URL is unset.

It lives under LAWGRID_DATA_DIR (default ./data) and listens only on a private unix
socket, so it never clashes with a system PostgreSQL or another checkout. PostgreSQL's
tools refuse to run as root; as root we run them as the postgres user.
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DB_NAME = "lawgrid"
SUPERUSER = "postgres"
# A unix socket path must stay under ~107 bytes; leave room for "/.s.PGSQL.5432".
MAX_SOCKET_DIR = 90


class EmbeddedDbError(RuntimeError):
    """Raised with a message a person can act on."""


def find_pg_bin() -> Path:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    for pg_ctl in reversed(candidates):
        version = Path(pg_ctl).parts[-3]
        if glob.glob(f"/usr/share/postgresql/{version}/extension/postgis.control"):
            return Path(pg_ctl).parent
    if candidates:
        raise EmbeddedDbError(
            "PostgreSQL is installed but PostGIS is not: install the Debian package "
            "postgresql-15-postgis-3 (make test / make demo do it when run as root)."
        )
    raise EmbeddedDbError(
        "PostgreSQL with PostGIS is not installed: install the Debian packages "
        "postgresql-15 and postgresql-15-postgis-3, or set LAWGRID_DATABASE_URL."
    )


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _server_user() -> str:
    return SUPERUSER if _running_as_root() else pwd.getpwuid(os.geteuid()).pw_name


def _traversable_by(path: Path, user: str) -> bool:
    """True when every parent of path can be entered by user (others' x bit suffices)."""
    if not _running_as_root():
        return True
    uid = pwd.getpwnam(user).pw_uid
    for parent in [path, *path.parents]:
        if not parent.exists():
            continue
        st = parent.stat()
        if st.st_uid == uid:
            if not st.st_mode & stat.S_IXUSR:
                return False
        elif not st.st_mode & stat.S_IXOTH:
            return False
    return True


@dataclass(frozen=True)
class ClusterPaths:
    root: Path
    pgdata: Path
    socket_dir: Path
    log_file: Path
    note: str | None = None

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> ClusterPaths:
        data_dir = data_dir.resolve()
        root, note = data_dir / "pg", None
        if not _traversable_by(root, _server_user()):
            digest = hashlib.sha1(str(data_dir).encode()).hexdigest()[:10]
            root = Path("/var/tmp") / f"lawgrid-{digest}"
            note = (
                f"{data_dir} sits under a directory the postgres user cannot enter; "
                f"the embedded database lives in {root} instead."
            )
        socket_dir = root / "run"
        if len(str(socket_dir)) > MAX_SOCKET_DIR:
            digest = hashlib.sha1(str(root).encode()).hexdigest()[:10]
            socket_dir = Path(tempfile.gettempdir()) / f"lawgrid-sock-{digest}"
        return cls(root, root / "data", socket_dir, root / "postgres.log", note)


class EmbeddedCluster:
    def __init__(self, data_dir: Path, db_name: str = DB_NAME):
        self.paths = ClusterPaths.for_data_dir(Path(data_dir))
        self.db_name = db_name
        self._bin: Path | None = None

    # -- helpers ---------------------------------------------------------------
    @property
    def bin(self) -> Path:
        if self._bin is None:
            self._bin = find_pg_bin()
        return self._bin

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if _running_as_root():
            cmd = ["runuser", "-u", SUPERUSER, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=check)

    def _own(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o700)
        if _running_as_root():
            shutil.chown(path, SUPERUSER, SUPERUSER)

    def url(self, db_name: str | None = None) -> str:
        user = SUPERUSER if _running_as_root() else _server_user()
        return f"postgresql+psycopg://{user}@/{db_name or self.db_name}?host={self.paths.socket_dir}"

    # -- lifecycle -------------------------------------------------------------
    def initialised(self) -> bool:
        return (self.paths.pgdata / "PG_VERSION").exists()

    def running(self) -> bool:
        if not self.initialised():
            return False
        return self._run("pg_ctl", "status", "-D", str(self.paths.pgdata), check=False).returncode == 0

    def init(self) -> None:
        if self.initialised():
            return
        self.paths.root.mkdir(parents=True, exist_ok=True)
        if _running_as_root():
            os.chmod(self.paths.root, 0o755)
        self._own(self.paths.pgdata)
        result = self._run(
            "initdb",
            "-D",
            str(self.paths.pgdata),
            "-U",
            SUPERUSER if _running_as_root() else _server_user(),
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            check=False,
        )
        if result.returncode != 0:
            raise EmbeddedDbError(f"initdb failed:\n{result.stderr.strip()}")
        with open(self.paths.pgdata / "postgresql.conf", "a") as conf:
            # Private socket only; sized for bulk loads of a million targets on 2 cores.
            conf.write(
                "\n# lawgrid embedded cluster\n"
                "listen_addresses = ''\n"
                "shared_buffers = 512MB\n"
                "maintenance_work_mem = 512MB\n"
                "work_mem = 32MB\n"
                "max_wal_size = 4GB\n"
                "checkpoint_timeout = 15min\n"
                "max_connections = 200\n"
                "timezone = 'UTC'\n"
            )

    def start(self) -> str:
        self.init()
        if self.running():
            return self.url()
        self._own(self.paths.socket_dir)
        log = self.paths.log_file
        log.touch(exist_ok=True)
        if _running_as_root():
            shutil.chown(log, SUPERUSER, SUPERUSER)
        result = self._run(
            "pg_ctl",
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(self.paths.pgdata),
            "-l",
            str(log),
            "-o",
            f"-k {self.paths.socket_dir}",
            check=False,
        )
        if result.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise EmbeddedDbError(f"PostgreSQL did not start:\n{result.stderr.strip()}\n{tail}")
        self.ensure_database(self.db_name)
        return self.url()

    def stop(self) -> None:
        if self.running():
            self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.paths.pgdata))

    def status(self) -> str:
        if not self.initialised():
            return "not initialised"
        return "running" if self.running() else "stopped"

    def psql(self, sql: str, db_name: str = "postgres") -> str:
        result = self._run(
            "psql",
            "-h",
            str(self.paths.socket_dir),
            "-U",
            SUPERUSER if _running_as_root() else _server_user(),
            "-d",
            db_name,
            "-Atqc",
            sql,
            check=False,
        )
        if result.returncode != 0:
            raise EmbeddedDbError(result.stderr.strip())
        return result.stdout.strip()

    def ensure_database(self, name: str) -> None:
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
        if not exists:
            self.psql(f'CREATE DATABASE "{name}"')
        self.psql("CREATE EXTENSION IF NOT EXISTS postgis", db_name=name)

    def drop_database(self, name: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def resolve_database_url(settings, *, start: bool = True) -> str:
    """The SQLAlchemy URL to use: LAWGRID_DATABASE_URL, or the embedded cluster (started)."""
    if settings.database_url:
        return normalise_url(settings.database_url)
    cluster = EmbeddedCluster(settings.resolved_data_dir)
    if cluster.paths.note:
        print(f"lawgrid: {cluster.paths.note}", file=sys.stderr)
    if start:
        t0 = time.monotonic()
        url = cluster.start()
        if time.monotonic() - t0 > 2:
            print(f"lawgrid: embedded PostGIS ready at {cluster.paths.socket_dir}", file=sys.stderr)
        return url
    return cluster.url()


def normalise_url(url: str) -> str:
    """Accept postgres:// and postgresql:// URLs and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
