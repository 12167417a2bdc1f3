"""Production's shape: `lawgrid ingest` in a process of its own and two web processes
(`lawgrid serve --no-ingest`), talking through a real Redis (started here). Positions reach
the browsers of both web processes; a task assigned on a web process reaches the crew's
JT/T 808 terminals through the ingest process, at once if connected, on login if not;
arrivals detected by ingest are pushed to the browsers."""

import asyncio
import datetime as dt
import os
import socket
import subprocess
import sys

import pytest
import requests
import socketio
from sqlalchemy import text

from lawgrid.screens import free_port, start_redis
from tests.conftest import PASSWORD
from tests.dashboard import conftest as dashboard_fixtures
from tests.dashboard.test_dispatch_api import DUE, Client, forget_positions, jt808_phone
from tests.webutil import phone_client, run_async, terminal, wait_for

setting = dashboard_fixtures.setting  # the lawful U001 crew and target, restored afterwards
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def redis_url():
    proc, url = start_redis()
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def processes(runtime, redis_url, users, tmp_path_factory):
    base = {
        **os.environ,
        "LAWGRID_DATABASE_URL": runtime.url,
        "LAWGRID_REDIS_URL": redis_url,
        "LAWGRID_SECRET_KEY": "shared-by-every-process",
        "LAWGRID_PUSH_INTERVAL_S": "0.2",
    }
    jt808, osmand = free_port(), free_port()
    ingest_env = {
        **base,
        "LAWGRID_DATA_DIR": str(tmp_path_factory.mktemp("ingest")),
        "LAWGRID_INGEST_HOST": "127.0.0.1",
        "LAWGRID_JT808_PORT": str(jt808),
        "LAWGRID_OSMAND_PORT": str(osmand),
        "LAWGRID_INGEST_PROCESSES": "2",  # two listeners on the same ports, as on a 2-core host
    }
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "lawgrid.cli", "ingest"], cwd=ROOT, env=ingest_env, stdout=subprocess.PIPE, text=True
        )
    ]
    webs = []
    for name in ("a", "b"):
        port = free_port()
        env = {**base, "LAWGRID_DATA_DIR": str(tmp_path_factory.mktemp(f"web-{name}"))}
        cmd = [sys.executable, "-m", "lawgrid.cli", "serve", "--no-ingest", "--host", "127.0.0.1", "--port", str(port)]
        started.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        webs.append(f"http://127.0.0.1:{port}")
    try:
        assert started[0].stdout is not None
        line = started[0].stdout.readline()  # blocks until ingest listens (or exits)
        assert line.startswith("listening"), line

        def healthy(url):
            try:
                return requests.get(url + "/api/health", timeout=2).status_code == 200
            except requests.ConnectionError:
                return False

        for url in webs:
            wait_for(lambda u=url: healthy(u), interval=0.25, what=f"the web process at {url}")
        yield {"web": webs, "jt808": jt808, "osmand": osmand, "ingest": started[0]}
    finally:
        for proc in started:
            proc.terminate()
        for proc in started:
            proc.wait(20)


def watch(url, username):
    seen = {"positions": [], "inspection": []}
    client = socketio.Client(reconnection=False)
    client.on("positions", lambda rows: seen["positions"].extend(rows), namespace="/live")
    client.on("inspection", lambda e: seen["inspection"].append(e), namespace="/live")
    token = requests.post(url + "/api/auth/token", json={"username": username, "password": PASSWORD}, timeout=5)
    client.connect(url, namespaces=["/live"], transports=["websocket"], auth={"token": token.json()["access_token"]})
    return client, seen


def test_web_and_ingest_processes_share_positions_texts_and_arrivals(processes, setting, users, engine):
    web_a, web_b = processes["web"]
    a, b = setting["officers"][:2]
    phone_a, phone_b = jt808_phone(engine, a), jt808_phone(engine, b)
    with engine.connect() as c:
        device_a = c.execute(text("SELECT id FROM device WHERE identifier = :p"), {"p": phone_a}).scalar_one()
    on_a, seen_a = watch(web_a, users["operator"])
    on_b, seen_b = watch(web_b, users["operator"])
    dispatcher_a, dispatcher_b = Client(web_a, users["dispatcher"]), Client(web_b, users["dispatcher"])

    async def crew():
        first = terminal(phone_a, processes["jt808"])
        await first.connect()
        await first.login()
        # ~1 km away, a few seconds ago (JT/T 808 times are whole seconds: the report from the
        # door below must not share its second, or it is a duplicate)
        earlier = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=3)
        assert await first.location(setting["lat"] - 0.01, setting["lon"], earlier) == 0
        # Both web processes' browsers see it (ingest -> Redis -> every web process).
        for seen in (seen_a, seen_b):
            await asyncio.to_thread(wait_for, lambda s=seen: any(r[0] == device_a for r in s["positions"]), 10)
        # A task assigned on web process A reaches the connected terminal through ingest.
        r = await asyncio.to_thread(
            dispatcher_a.post,
            "/api/inspections",
            {"target_id": setting["target_id"], "domain": setting["domain_key"], "due_at": DUE.isoformat()},
        )
        assert r.status_code == 201, r.text
        task = r.json()["id"]
        r = await asyncio.to_thread(dispatcher_a.post, f"/api/inspections/{task}/assign", {"officer_ids": [a, b]})
        assert r.status_code == 200, r.text
        queued = r.json()["notified"]["queued"]
        for _ in range(200):
            if first.texts:
                break
            await asyncio.sleep(0.05)
        # The second officer's terminal was off: it gets the task when it logs in.
        second = terminal(phone_b, processes["jt808"])
        await second.connect()
        await second.login()
        for _ in range(200):
            if second.texts:
                break
            await asyncio.sleep(0.05)
        # The crew sets off (on web process B); the first terminal reports from the door.
        for status in ("accepted", "en_route"):
            r = await asyncio.to_thread(
                dispatcher_b.post, f"/api/inspections/{task}/status", {"status": status, "reason": "电话确认"}
            )
            assert r.status_code == 200, r.text
        assert await first.location(setting["lat"] + 0.0002, setting["lon"]) == 0
        texts = (list(first.texts), list(second.texts))
        await first.close()
        await second.close()
        return task, queued, texts

    try:
        task, queued, (texts_a, texts_b) = run_async(crew())
        assert sorted(queued) == sorted([phone_a, phone_b])  # this web process holds no terminal: queued
        assert len([t for t in texts_a if f"检查任务{task}：" in t]) == 1  # beside any other open task of the crew
        assert len([t for t in texts_b if f"检查任务{task}：" in t]) == 1  # beside any other open task of the crew
        # Ingest detects the arrival (its sweep) and both web processes push it.
        wait_for(
            lambda: dispatcher_b.get(f"/api/inspections/{task}").json()["status"] == "on_site",
            what="the arrival detected",
        )
        for seen in (seen_a, seen_b):
            wait_for(
                lambda s=seen: any(e["id"] == task and e["status"] == "on_site" for e in s["inspection"]),
                what="the arrival pushed",
            )
    except AssertionError as exc:  # say what each side saw
        seen = {name: [(e["id"], e["status"]) for e in w["inspection"]] for name, w in (("a", seen_a), ("b", seen_b))}
        raise AssertionError(f"{exc}; pushed: {seen}") from exc
    finally:
        on_a.disconnect()
        on_b.disconnect()
        forget_positions(engine, [a, b])  # the crew's fix at the door would let another test's crew arrive


def children(pid: int) -> set[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return {int(x) for x in f.read().split()}


def ended(pid: int) -> bool:
    """Gone, or a zombie waiting for whoever adopted it to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def listens_on(pid: int, port: int) -> bool:
    """Whether the process holds a listening TCP socket on the port (/proc/net/tcp, state 0A)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in list(f)[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    fds = f"/proc/{pid}/fd"
    try:
        links = [os.readlink(os.path.join(fds, fd)) for fd in os.listdir(fds)]
    except FileNotFoundError:
        return False
    return any(link == f"socket:[{inode}]" for link in links for inode in inodes)


def test_ingest_runs_two_listeners_on_one_port_and_restarts_one_that_dies(processes, engine, users):
    from tests.ingest.test_ingest import cleanup, positions, registered

    supervisor, port = processes["ingest"], processes["osmand"]
    first = wait_for(lambda: len(children(supervisor.pid)) == 2 and children(supervisor.pid), what="two listeners")
    assert all(listens_on(pid, port) for pid in first)
    dev_id, ident = registered(engine, "osmand")
    cleanup(engine, dev_id)
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=10)

    async def report(offsets):
        codes = []
        for i in offsets:  # a new connection each: the kernel spreads them over the listeners
            phone = phone_client(ident, port)
            codes.append((await phone.position(39.0 + i / 1e4, 117.6, start + dt.timedelta(seconds=i)))[0])
            await phone.close()
        return codes

    try:
        assert run_async(report(range(0, 10))) == [200] * 10
        killed = min(first)
        os.kill(killed, 9)
        # The supervisor starts another in its place, which listens on the same port.
        fresh = wait_for(lambda: (c := children(supervisor.pid)) - first and len(c) == 2 and c, what="a new listener")
        (new,) = fresh - first
        wait_for(lambda: listens_on(new, port), what="the new listener on the port")
        assert supervisor.poll() is None
        assert run_async(report(range(10, 30))) == [200] * 20
        assert len(positions(engine, dev_id)) == 30  # every fix, before the kill and after, stored

        # A web process shows both running listeners' counters (from Redis, written every
        # sweep), the dead one gone, and their sum counts the fixes since the restart.
        operator = Client(processes["web"][0], users["operator"])

        def listed():
            stats = operator.get("/api/ingest/stats").json()
            names = {p["process"].rsplit(":", 1)[1] for p in stats.get("processes", [])}
            return names == {str(p) for p in fresh} and stats["counters"].get("accepted", 0) >= 20 and stats

        stats = wait_for(listed, interval=0.5, what="both listeners' counters")
        assert stats["running"] is True
    finally:
        cleanup(engine, dev_id)


def test_ingest_that_cannot_listen_says_so_and_leaves_no_listener(runtime, tmp_path):
    osmand = free_port()
    with socket.socket() as taken:  # another program holds the JT/T 808 port (no SO_REUSEPORT)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {
            **os.environ,
            "LAWGRID_DATABASE_URL": runtime.url,
            "LAWGRID_DATA_DIR": str(tmp_path),
            "LAWGRID_INGEST_HOST": "127.0.0.1",
            "LAWGRID_JT808_PORT": str(taken.getsockname()[1]),
            "LAWGRID_OSMAND_PORT": str(osmand),
            "LAWGRID_INGEST_PROCESSES": "2",
        }
        done = subprocess.run(
            [sys.executable, "-m", "lawgrid.cli", "ingest"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
    assert done.returncode == 1, done.stderr[-2000:]
    assert "did not start" in done.stderr
    assert not done.stdout.startswith("listening")
    with pytest.raises(ConnectionRefusedError):  # neither listener was left behind on the other port
        socket.create_connection(("127.0.0.1", osmand), timeout=2).close()


def test_ingest_stops_in_order_on_sigterm_and_leaves_no_listener_listed(runtime, redis_url, tmp_path):
    from ingest.wake import read_stats

    env = {
        **os.environ,
        "LAWGRID_DATABASE_URL": runtime.url,
        "LAWGRID_REDIS_URL": redis_url,
        "LAWGRID_DATA_DIR": str(tmp_path),
        "LAWGRID_INGEST_HOST": "127.0.0.1",
        "LAWGRID_JT808_PORT": str(free_port()),
        "LAWGRID_OSMAND_PORT": str(free_port()),
        "LAWGRID_INGEST_PROCESSES": "2",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "lawgrid.cli", "ingest"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().startswith("listening")
        pids = children(proc.pid)

        def listed():
            return {int(d["process"].rsplit(":", 1)[1]) for d in read_stats(redis_url)} & pids

        wait_for(lambda: listed() == pids, what="both listeners' counters")  # written on starting
        proc.terminate()
        assert proc.wait(60) == 0
        # Each listener stopped in order (its own SIGTERM handler): its counters are gone, not left to expire.
        assert not listed()
        assert not any(os.path.exists(f"/proc/{pid}") for pid in pids)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_killed_supervisor_takes_its_listeners_with_it_and_its_restart_serves_again(runtime, engine, tmp_path):
    """`kill -9` of `lawgrid ingest`: its listeners end with it (the ports are freed), and the
    same command started again, as compose's `restart: unless-stopped` and the systemd unit's
    `Restart=always` (both in the repository, checked here) start it, listens and stores again."""
    from tests.ingest.test_ingest import cleanup, positions, registered

    compose = open(os.path.join(ROOT, "docker-compose.yml"), encoding="utf-8").read()
    unit = open(os.path.join(ROOT, "deploy", "systemd", "lawgrid-ingest.service"), encoding="utf-8").read()
    assert compose.count("restart: unless-stopped") >= 2 and "Restart=always" in unit
    jt808, osmand = free_port(), free_port()
    env = {
        **os.environ,
        "LAWGRID_DATABASE_URL": runtime.url,
        "LAWGRID_SECRET_KEY": "restart-test",
        "LAWGRID_DATA_DIR": str(tmp_path),
        "LAWGRID_INGEST_HOST": "127.0.0.1",
        "LAWGRID_JT808_PORT": str(jt808),
        "LAWGRID_OSMAND_PORT": str(osmand),
        "LAWGRID_INGEST_PROCESSES": "2",
    }

    def start() -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lawgrid.cli", "ingest"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None and proc.stdout.readline().startswith("listening")
        return proc

    dev_id, ident = registered(engine, "osmand")
    cleanup(engine, dev_id)
    when = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=3)

    async def report(i: int) -> int:
        phone = phone_client(ident, osmand)
        code = (await phone.position(39.0 + i / 1e4, 117.6, when + dt.timedelta(seconds=i)))[0]
        await phone.close()
        return code

    supervisor = start()
    restarted = None
    try:
        listeners = wait_for(lambda: len(children(supervisor.pid)) == 2 and children(supervisor.pid), what="listeners")
        assert run_async(report(0)) == 200
        os.kill(supervisor.pid, 9)
        supervisor.wait(30)
        wait_for(lambda: all(ended(p) for p in listeners), what="the listeners ending too")
        restarted = start()  # what the restart policy does
        assert run_async(report(1)) == 200
        assert len(positions(engine, dev_id)) == 2  # the fix before the kill and the one after
    finally:
        for proc in (supervisor, restarted):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(30)
