import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";

/**
 * A load balancer that is not sticky: each HTTP request goes to the next upstream in turn
 * (keep-alive to the client, so one client connection spreads its polls over all nodes), and a
 * WebSocket upgrade is piped to the next upstream as well. Upstreams can be taken out, as a
 * balancer's health check would.
 */
export interface RoundRobinProxy {
  readonly port: number;
  /** http://127.0.0.1:port */
  readonly url: string;
  /** HTTP requests sent to each upstream, by index. */
  readonly requests: number[];
  /** WebSocket upgrades sent to each upstream, by index. */
  readonly upgrades: number[];
  /** Stops sending to upstream `index`. */
  disable(index: number): void;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"]);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const kept: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) kept[name] = value;
  return kept;
}

/**
 * Starts the proxy on 127.0.0.1 in front of the loopback `ports`. It connects to them from
 * `localAddress` (default 127.0.0.2), so the nodes tell the balancer's connections from each
 * other's (127.0.0.1).
 */
export async function startRoundRobinProxy(
  ports: readonly number[],
  opts: { localAddress?: string } = {},
): Promise<RoundRobinProxy> {
  const localAddress = opts.localAddress ?? "127.0.0.2";
  const enabled = ports.map(() => true);
  const requests = ports.map(() => 0);
  const upgrades = ports.map(() => 0);
  const agents = ports.map(() => new Agent({ keepAlive: true }));
  const tunnels = new Set<Duplex>();
  let turn = 0;
  const next = (): number | undefined => {
    for (let tries = 0; tries < ports.length; tries++) {
      const index = turn++ % ports.length;
      if (enabled[index]) return index;
    }
    return undefined;
  };

  const server = createServer((req, res) => {
    const index = next();
    if (index === undefined) {
      res.writeHead(502).end();
      return;
    }
    requests[index] = (requests[index] ?? 0) + 1;
    const upstream = httpRequest({
      host: "127.0.0.1",
      port: ports[index],
      localAddress,
      method: req.method,
      path: req.url,
      headers: endToEnd(req.headers),
      agent: agents[index],
    });
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    upstream.on("response", (answer) => {
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      answer.pipe(res);
      answer.on("aborted", () => res.destroy());
    });
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });

  server.on("upgrade", (req, socket: Socket, head: Buffer) => {
    socket.on("error", () => {});
    const index = next();
    if (index === undefined) {
      socket.destroy();
      return;
    }
    upgrades[index] = (upgrades[index] ?? 0) + 1;
    const upstream = connect({ host: "127.0.0.1", port: ports[index] as number, localAddress });
    upstream.on("error", () => {});
    tunnels.add(socket);
    tunnels.add(upstream);
    const done = (): void => {
      tunnels.delete(socket);
      tunnels.delete(upstream);
      socket.destroy();
      upstream.destroy();
    };
    socket.once("close", done);
    upstream.once("close", done);
    upstream.once("connect", () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream);
      upstream.pipe(socket);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    upgrades,
    disable(index) {
      enabled[index] = false;
    },
    close() {
      for (const socket of tunnels) socket.destroy();
      for (const agent of agents) agent.destroy();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
