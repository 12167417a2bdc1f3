"""The embedded cluster: start, reuse, stop, and the fallback for untraversable parents."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from lawgrid.embedded_db import ClusterPaths, EmbeddedCluster


@pytest.fixture
def open_dir():
    path = Path(tempfile.mkdtemp(prefix="lawgrid-embedded-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    cluster = EmbeddedCluster(path)
    cluster.stop()
    shutil.rmtree(path, ignore_errors=True)


def test_lifecycle_through_the_cli(open_dir):
    env = {**os.environ, "LAWGRID_DATA_DIR": str(open_dir)}
    env.pop("LAWGRID_DATABASE_URL", None)

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "lawgrid.cli", "db", *args], env=env, capture_output=True, text=True, timeout=120
        )

    assert run("status").returncode == 3  # not initialised yet
    started = run("start")
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip().startswith("postgresql+psycopg://")
    assert "running" in run("status").stdout
    assert run("start").returncode == 0  # reuses the running cluster
    upgraded = run("upgrade")
    assert "schema is at" in upgraded.stdout, upgraded.stderr
    cluster = EmbeddedCluster(open_dir)
    assert cluster.psql("SELECT postgis_lib_version()", "lawgrid").startswith("3.")
    # Private unix socket only: no TCP listener.
    assert cluster.psql("SHOW listen_addresses") == ""
    assert run("stop").returncode == 0
    assert "stopped" in run("status").stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="the postgres-user fallback applies when running as root")
def test_untraversable_parent_falls_back_with_a_note(tmp_path):
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    paths = ClusterPaths.for_data_dir(private / "checkout" / "data")
    assert paths.note and "cannot enter" in paths.note
    assert str(paths.root).startswith("/var/tmp/lawgrid-")


def test_long_paths_keep_the_socket_short(tmp_path):
    deep = Path("/tmp") / ("x" * 120) / "data"
    paths = ClusterPaths.for_data_dir(deep)
    assert len(str(paths.socket_dir / ".s.PGSQL.5432")) < 107
