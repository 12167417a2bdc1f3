// Node's socket.io as the peer of LawGrid's web tier in `lawgrid bench push`: it takes the
// same position batches from Redis (channel given on the command line, JSON) and emits each
// to every client of the same room of the same namespace, as LawGrid's web process does with
// the batches its ingest process publishes. Prints "listening PORT" once ready.
//
//   node peer.js --redis redis://127.0.0.1:6379/0 --channel lawgrid-bench-peer
"use strict";
const http = require("http");
const { Server } = require("socket.io");
const { createClient } = require("redis");

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

async function main() {
  const server = http.createServer();
  const io = new Server(server, { transports: ["websocket"], perMessageDeflate: false });
  const live = io.of("/live");
  live.on("connection", (socket) => socket.join("district"));
  const sub = createClient({ url: arg("redis") });
  await sub.connect();
  await sub.subscribe(arg("channel"), (message) => {
    live.to("district").emit("positions", JSON.parse(message));
  });
  server.listen(Number(arg("port", "0")), "127.0.0.1", () => {
    process.stdout.write(`listening ${server.address().port}\n`);
  });
  process.on("SIGTERM", () => process.exit(0));
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
