// The dashboards of `lawgrid bench push` where Node is present: N logged-in Socket.IO clients
// in one process (socket.io-client decodes a batch for a fraction of what python-socketio's
// client costs, so the load generator is not what the bench measures). Each times every
// tenth position from the fix time the device stamped to its arrival, and the bare
// `bench_ping` emits beside. Prints "connected" once all are, runs until stdin closes, then
// prints one JSON line (the fields of push_clients.py) and writes every latency to --out as
// float64.
//
//   node clients.js --url http://127.0.0.1:8050 --token T --clients 50 --out /tmp/x.f64
"use strict";
const fs = require("fs");
const { io } = require("socket.io-client");

const SAMPLE = 10;

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

function percentile(values, q) {
  if (!values.length) return 0;
  const sorted = Float64Array.from(values).sort();
  const rank = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

const round = (x) => Math.round(x * 10) / 10;

async function main() {
  const n = Number(arg("clients", "1"));
  const perClient = [];
  const floor = [];
  let batches = 0;
  const sockets = [];
  for (let i = 0; i < n; i++) {
    const mine = [];
    perClient.push(mine);
    const socket = io(`${arg("url")}/live`, {
      transports: ["websocket"],
      auth: { token: arg("token") },
      reconnection: false,
      // As python-socketio's client and the Node peer (perMessageDeflate: false): no
      // compression, so both servers do the same work per delivered batch.
      perMessageDeflate: false,
    });
    socket.on("positions", (rows) => {
      const now = Date.now();
      batches += 1;
      for (let r = 0; r < rows.length; r += SAMPLE) {
        if (rows[r][6]) mine.push(now - Date.parse(rows[r][6]));
      }
    });
    socket.on("bench_ping", (t) => floor.push(Date.now() - t * 1000));
    await new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", reject);
    });
    sockets.push(socket);
  }
  process.stdout.write("connected\n");
  process.stdin.resume();
  process.stdin.on("end", () => {
    for (const socket of sockets) socket.disconnect();
    const every = perClient.flat();
    if (arg("out")) fs.writeFileSync(arg("out"), Buffer.from(Float64Array.from(every).buffer));
    const out = {
      batches,
      received: every.length * SAMPLE, // (approximately: sampled)
      p50_ms: round(percentile(every, 50)),
      p95_ms: round(percentile(every, 95)),
      p99_ms: round(percentile(every, 99)),
      client_p95_ms: perClient.filter((m) => m.length).map((m) => round(percentile(m, 95))),
      floor_p95_ms: round(percentile(floor, 95)),
      floor_received: floor.length,
      floor_ms: floor,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`, () => process.exit(0));
  });
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
