// A Socket.IO client for herald's integration tests: the reference JavaScript client
// (socket.io-client), driven through stdin and reporting through stdout, one JSON object per
// line.
//
//   node client.mjs <url> <websocket|polling> [auth-json]
//
// stdin:  {"emit": "<event>", "data": {...}}   or   {"close": true}
// stdout: {"connect": "<sid>"} | {"connect_error": "<message>"} | {"disconnect": "<reason>"}
//         | {"event": "<name>", "data": <first argument>}
import { createInterface } from "node:readline";
import { io } from "socket.io-client";

const [url, transport, auth] = process.argv.slice(2);
const say = (line) => process.stdout.write(JSON.stringify(line) + "\n");

const socket = io(url, {
  transports: [transport],
  auth: auth ? JSON.parse(auth) : undefined,
  reconnection: false,
  forceNew: true,
});
socket.on("connect", () => say({ connect: socket.id, transport: socket.io.engine.transport.name }));
socket.on("connect_error", (err) => say({ connect_error: err.message }));
socket.on("disconnect", (reason) => say({ disconnect: reason }));
socket.onAny((event, data) => say({ event, data }));

createInterface({ input: process.stdin }).on("line", (line) => {
  const command = JSON.parse(line);
  if (command.emit) socket.emit(command.emit, command.data);
  if (command.close) { socket.close(); setTimeout(() => process.exit(0), 50); }
});
process.stdin.on("end", () => { socket.close(); process.exit(0); });
