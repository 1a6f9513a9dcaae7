// A child process for the reconnect-storm test: opens `count` official socket.io-client
// connections to `url` all at once, then reports to the parent how many connected and why the
// others failed. Its own process, because one process may hold only so many open files.
//
// Every client is given exactly one outcome, or the report would never come. A client that fails
// before its engine opens gets `connect_error` (the handshake failed, or the connect `timeout`
// passed). One that fails after its engine opened and before the namespace answered (a failed
// POST, a ping timeout while the storm is still being served) gets only `disconnect`, no
// `connect_error`: counting only `connect` and `connect_error` left such clients uncounted, and the
// child held no sockets and never reported.
//
// With polling first, a client holds up to three sockets at once (the held GET, a POST, the
// WebSocket probe): the Node polling client (xmlhttprequest-ssl, `agent: false`) opens a new
// connection per request. So the parent spreads the clients over several children, each well
// under the open-file limit.
import { io, type Socket } from "socket.io-client";

/** What the child reports once every client has connected or failed. */
export interface StormReport {
  connected: number;
  /** Of the connected clients, how many are on WebSocket when the report is sent. */
  websocket: number;
  /**
   * One line per failed client: the connect_error's message and, when there is one, its HTTP
   * status; or the reason of a disconnect before the namespace connected.
   */
  failures: string[];
}

/** The parent's commands: "close" disconnects every client and ends the process. */
export type StormCommand = "close";

function errorLine(err: Error & { description?: unknown; context?: unknown }): string {
  const description = err.description;
  const status =
    typeof description === "number"
      ? description
      : (description as { message?: string } | undefined)?.message?.match(/\b(\d{3})\b/)?.[1];
  return status === undefined ? err.message : `${err.message} (HTTP ${String(status)})`;
}

function main(): void {
  const [url, countArg, transportsArg] = process.argv.slice(2);
  const count = Number(countArg);
  const transports = (transportsArg ?? "polling,websocket").split(",");
  const sockets: Socket[] = [];
  let connected = 0;
  const failures: string[] = [];
  const settle = (): void => {
    if (connected + failures.length !== count) return;
    const websocket = sockets.filter((s) => s.connected && s.io.engine.transport.name === "websocket").length;
    process.send?.({ connected, websocket, failures } satisfies StormReport);
  };
  for (let i = 0; i < count; i++) {
    const socket = io(url as string, { forceNew: true, reconnection: false, transports, timeout: 120_000 });
    sockets.push(socket);
    // a client counts once: connected, or failed before it connected
    let counted = false;
    const fail = (line: string): void => {
      if (counted) return;
      counted = true;
      failures.push(line);
      settle();
    };
    socket.once("connect", () => {
      if (counted) return;
      counted = true;
      connected++;
      settle();
    });
    socket.once("connect_error", (err) => fail(errorLine(err)));
    socket.once("disconnect", (reason) => fail(`disconnected before connecting: ${reason}`));
  }
  if (process.env.STORM_PROGRESS !== undefined) {
    setInterval(() => console.error(`connected ${connected}, failed ${failures.length}`), 5000).unref();
  }
  process.on("message", (command: StormCommand) => {
    if (command !== "close") return;
    for (const socket of sockets) socket.disconnect();
    process.exit(0);
  });
}

main();
