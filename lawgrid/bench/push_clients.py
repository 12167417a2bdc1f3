"""The dashboards of `bench push`, in a process of their own (so decoding their batches does
not compete with the server for its interpreter): N logged-in Socket.IO clients, each timing
every position from the fix time the device stamped to its arrival, and the bare `bench_ping`
emits beside. Runs until its stdin closes, then prints one JSON line.

    python -m lawgrid.bench.push_clients --url http://127.0.0.1:8050 --token T --clients 20
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time

import numpy as np
import socketio

SAMPLE = 10  # one position in this many is timed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--clients", type=int, default=1)
    p.add_argument("--out", help="write every latency (ms, float64) here")
    args = p.parse_args(argv)
    per_client: list[list[float]] = []
    floor: list[float] = []
    batches = [0]
    clients = []
    for _ in range(args.clients):
        mine: list[float] = []
        per_client.append(mine)
        client = socketio.Client(reconnection=False)

        def on_positions(rows, mine=mine):
            # Every tenth position is timed: enough for the percentiles, and cheap enough that
            # twenty clients on this machine do not starve the server they are measuring.
            now = time.time()
            batches[0] += 1
            for row in rows[::SAMPLE]:
                if row[6]:
                    mine.append((now - dt.datetime.fromisoformat(row[6]).timestamp()) * 1000)

        client.on("positions", on_positions, namespace="/live")
        client.on("bench_ping", lambda t: floor.append((time.time() - t) * 1000), namespace="/live")
        client.connect(args.url, namespaces=["/live"], transports=["websocket"], auth={"token": args.token})
        clients.append(client)
    print("connected", flush=True)
    sys.stdin.read()  # until the bench is done
    for client in clients:
        client.disconnect()
    every = np.array([x for m in per_client for x in m] or [0.0])
    pings = np.array(floor or [0.0])
    if args.out:
        every.tofile(args.out)
    print(
        json.dumps(
            {
                "batches": batches[0],
                "received": int(sum(len(m) for m in per_client)) * SAMPLE,  # (approximately: sampled)
                "p50_ms": round(float(np.percentile(every, 50)), 1),
                "p95_ms": round(float(np.percentile(every, 95)), 1),
                "p99_ms": round(float(np.percentile(every, 99)), 1),
                "client_p95_ms": [round(float(np.percentile(m, 95)), 1) for m in per_client if m],
                "floor_p95_ms": round(float(np.percentile(pings, 95)), 1),
                "floor_received": len(floor),
                "floor_ms": floor,
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
