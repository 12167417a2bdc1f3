"""The `lawgrid` console script, run as a user would, against its own database."""

import csv
import os
import subprocess
import sys

import pytest

from geo.infra import db
from geo.places.credit_code import check_character


@pytest.fixture(scope="module")
def cli_env(databases):
    url = databases.fresh("lawgrid_cli")
    return {**os.environ, "LAWGRID_DATABASE_URL": url}


def lawgrid(env, *args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "lawgrid.cli", *args], env=env, input=stdin, capture_output=True, text=True, timeout=300
    )


def test_db_upgrade_seed_and_import_from_the_command_line(cli_env, tmp_path):
    result = lawgrid(cli_env, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert f"schema is at {db.head_revision()}" in result.stdout
    assert '"townships": 26' in result.stdout

    result = lawgrid(cli_env, "seed", "--targets", "500", "--officers", "60", "--seed", "3")
    assert result.returncode == 0, result.stderr
    assert '"units": 55' in result.stdout and '"targets": 500' in result.stdout
    assert "targets: 100%" in result.stderr  # the progress bar

    good = "91120116000000042" + check_character("91120116000000042")
    path = tmp_path / "in.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["企业编码", "名称", "执法领域", "经度", "纬度"])
        w.writerow([good, "命令行公司", "health", 117.66, 39.02])
        w.writerow([good[:-1] + ("0" if good[-1] != "0" else "1"), "坏公司", "health", 117.66, 39.02])
    result = lawgrid(cli_env, "import", "targets", str(path), "--map", "企业编码=credit_code")
    assert result.returncode == 0, result.stderr
    assert "targets: 1 loaded (1 new, 0 updated), 1 rejected" in result.stdout
    assert (tmp_path / "in.csv.rejects.csv").read_text(encoding="utf-8").splitlines()[1].startswith("3,")
    from sqlalchemy import text

    engine = db.make_engine(cli_env["LAWGRID_DATABASE_URL"])
    with engine.connect() as c:
        action, detail = c.execute(
            text("SELECT action, detail FROM audit_log WHERE action LIKE 'import_%' ORDER BY id DESC LIMIT 1")
        ).one()
    engine.dispose()
    assert action == "import_targets" and detail["loaded"] == 1 and detail["rejected"] == 1


def test_missing_file_is_a_clear_error(cli_env, tmp_path):
    result = lawgrid(cli_env, "import", "targets", str(tmp_path / "nope.csv"))
    assert result.returncode == 1
    assert "no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_mapping_syntax_is_explained(cli_env, tmp_path):
    result = lawgrid(cli_env, "import", "targets", str(tmp_path / "x.csv"), "--map", "oops")
    assert result.returncode == 2
    assert "COLUMN=FIELD" in result.stderr


def test_the_demo_keeps_its_accounts_private_stays_quiet_and_takes_its_simulator_with_it(databases, tmp_path):
    import signal
    import stat
    import time

    import requests

    from lawgrid.screens import free_port

    env = {
        **os.environ,
        "LAWGRID_DATABASE_URL": databases.fresh("lawgrid_demo"),
        "LAWGRID_DATA_DIR": str(tmp_path),
        "LAWGRID_JT808_PORT": str(free_port()),
        "LAWGRID_OSMAND_PORT": str(free_port()),
    }
    port = free_port()

    def start():
        return subprocess.Popen(
            [sys.executable, "-m", "lawgrid.cli", "demo", "--targets", "300", "--inspections", "50"]
            + ["--simulate-devices", "3", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def until_serving(proc):
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("LawGrid dashboard at"):
                return lines
        raise AssertionError("the demo stopped: " + "".join(lines[-20:]))

    def simulators():
        out = subprocess.run(
            ["pgrep", "-f", f"simulate .*--osmand-port {env['LAWGRID_OSMAND_PORT']}"], text=True, capture_output=True
        ).stdout
        return out.split()

    demo = start()
    try:
        first = "".join(until_serving(demo))
        accounts = tmp_path / "demo-accounts.txt"
        assert f"demo accounts (name, password, role): {accounts}" in first
        assert stat.S_IMODE(accounts.stat().st_mode) == 0o600
        admin = next(line.split("\t") for line in accounts.read_text().splitlines() if line.startswith("demo-admin"))
        assert admin[1] not in first  # the password is in the file, not on the screen

        def healthy():  # the line above comes just before the server binds its port
            try:
                return requests.get(f"http://127.0.0.1:{port}/api/health", timeout=10).status_code == 200
            except requests.ConnectionError:
                return False

        deadline = time.monotonic() + 30
        while not healthy():
            assert time.monotonic() < deadline, "the demo's web server did not answer"
            time.sleep(0.2)
        for _ in range(5):
            assert healthy()
        deadline = time.monotonic() + 30
        while not simulators():
            assert time.monotonic() < deadline, "the demo's simulator did not start"
            time.sleep(0.2)
        demo.send_signal(signal.SIGTERM)  # as `kill` would
        rest = demo.communicate(timeout=30)[0]
        assert "GET /api/health" not in rest and "GET /api/health" not in first  # no access log by default
        deadline = time.monotonic() + 15
        while simulators():
            assert time.monotonic() < deadline, "the simulator outlived the demo"
            time.sleep(0.2)
        demo = start()  # a second run says where the accounts are again
        assert f"demo accounts (name, password, role): {accounts}" in "".join(until_serving(demo))
    finally:
        demo.kill()
        demo.wait(30)


def test_verify_document_never_creates_an_installation(tmp_path):
    """Run where there is no installation, the check says so and leaves nothing behind (it started a
    second, empty database before)."""
    pdf = tmp_path / "some.pdf"
    pdf.write_bytes(b"%PDF-1.7\n%%EOF\n")
    empty = tmp_path / "nowhere"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAWGRID_")}
    env["LAWGRID_DATA_DIR"] = str(empty)
    result = subprocess.run(
        [sys.executable, "-m", "lawgrid.cli", "verify-document", str(pdf)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "no LawGrid installation" in result.stderr
    assert not empty.exists()


def test_supervision_figures_and_statistics_from_the_console(cli_env, tmp_path):
    import json

    assert lawgrid(cli_env, "db", "upgrade").returncode == 0
    result = lawgrid(cli_env, "supervision", "figures", "2025", "--indicator", "inspections", "--by", "unit")
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout.splitlines()[0])
    assert line["indicator"] == "inspections" and line["period"] == "2025"
    bad = lawgrid(cli_env, "supervision", "figures", "last spring")
    assert bad.returncode == 1 and "2024-Q2" in bad.stderr
    out = tmp_path / "stats.xlsx"
    made = lawgrid(cli_env, "supervision", "statistics", "2025", "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert out.read_bytes().startswith(b"PK")  # an XLSX is a zip
