"""lawgrid serve, ingest, simulate: the web process, the device listeners and the simulator."""

from __future__ import annotations

import json
from typing import Any

from lawgrid.cli.common import runtime as _runtime
from lawgrid.settings import load_settings


def register(sub: Any) -> None:
    serve = sub.add_parser("serve", help="web dashboard, REST API, Socket.IO and device listeners")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--no-ingest", action="store_true", help="do not start the device listeners")
    serve.set_defaults(handler=cmd_serve)

    ingest = sub.add_parser("ingest", help="device listeners only (JT/T 808 on 5015, OsmAnd on 5055)")
    ingest.add_argument(
        "--processes",
        type=int,
        default=None,
        help="listener processes on the same ports (default: one per core, up to 4)",
    )
    ingest.set_defaults(handler=cmd_ingest)

    sim = sub.add_parser("simulate", help="drive registered devices over the real protocols")
    sim.add_argument("--devices", type=int, default=100)
    sim.add_argument("--rate", type=float, default=1.0, help="fixes per second per device")
    sim.add_argument("--protocol", choices=["jt808", "osmand", "mixed"], default="mixed")
    sim.add_argument("--duration", type=float, default=60.0, help="seconds")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--jt808-port", type=int, default=None)
    sim.add_argument("--osmand-port", type=int, default=None)
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--sos-per-hour", type=float, default=2.0, help="SOS presses an hour across the fleet")
    sim.add_argument("--first-sos-after", type=float, default=None, help="seconds until one device presses SOS")
    sim.set_defaults(handler=cmd_simulate)


def cmd_serve(args) -> int:
    from lawgrid.app import create_app

    settings = load_settings()
    app = create_app(settings, with_ingest=not args.no_ingest)
    _run_web(app, args.host or settings.host, args.port or settings.port)
    return 0


def _run_web(app, host: str, port: int) -> None:
    import logging

    socketio = app.server.extensions["socketio"]
    if not app.server.extensions["lawgrid"].settings.access_log:  # a line per request buries the rest
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    print(f"LawGrid dashboard at http://{host}:{port}", flush=True)
    # Werkzeug serves the demo and tests; production runs gunicorn (see Dockerfile).
    socketio.run(app.server, host=host, port=port, allow_unsafe_werkzeug=True, log_output=False)


def cmd_ingest(args) -> int:
    import asyncio
    import os
    import signal

    from ingest.service import IngestConfig, IngestService
    from lawgrid import ingest_procs
    from lawgrid.runtime import open_runtime

    s = load_settings()
    processes = args.processes if args.processes is not None else s.ingest_processes
    processes = processes if processes > 0 else ingest_procs.auto_processes(os.cpu_count())
    if s.ingest_worker is None and processes > 1:
        if 0 in (s.jt808_port, s.osmand_port):
            raise SystemExit(
                "lawgrid ingest: several processes share fixed ports; set LAWGRID_JT808_PORT and LAWGRID_OSMAND_PORT"
            )
        open_runtime(s).engine.dispose()  # migrations once, here (and the embedded cluster started)
        return ingest_procs.Supervisor(processes, redis_url=s.redis_url).run()
    runtime = open_runtime(s, migrate=s.ingest_worker is None)
    config = IngestConfig.from_runtime(runtime)
    on_commit = on_states = on_arrivals = None
    if s.redis_url:  # reach the browsers of every web process through the message queue
        from lawgrid.app import queue_push

        push = queue_push(s, runtime)
        on_commit, on_states, on_arrivals = push.on_commit, push.on_states, push.on_arrivals

    async def main():
        service = IngestService(
            config, runtime.sessions, on_commit=on_commit, on_states=on_states, on_arrivals=on_arrivals
        )
        await service.start()
        mqtt = f", MQTT from {config.mqtt_url.split('@')[-1]}" if config.mqtt_url else ""
        print(f"listening: JT/T 808 on {service.jt808.port}, OsmAnd on {service.osmand.port}{mqtt}", flush=True)
        stopping = asyncio.Event()  # SIGTERM (docker stop, the supervisor) or SIGINT: stop in order
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stopping.set)
        try:
            await stopping.wait()
        finally:
            await service.stop()

    asyncio.run(main())
    return 0


def cmd_simulate(args) -> int:
    from ingest.simulator import run_simulation

    runtime = _runtime()
    s = runtime.settings
    summary = run_simulation(
        runtime.sessions,
        devices=args.devices,
        rate=args.rate,
        duration=args.duration,
        protocol=args.protocol,
        host=args.host,
        jt808_port=args.jt808_port or s.jt808_port,
        osmand_port=args.osmand_port or s.osmand_port,
        seed=args.seed,
        sos_per_hour=args.sos_per_hour,
        first_sos_after_s=args.first_sos_after,
    )
    print(json.dumps(summary))
    return 0
