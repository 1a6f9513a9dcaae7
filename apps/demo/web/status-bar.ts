import type { Manager, Socket } from "socket.io-client";
import type { StatusClientEvents, StatusServerEvents } from "../src/events.js";
import { byId } from "./dom.js";

export type ConnectionState = "connecting" | "connected" | "reconnecting" | "offline";

const LABELS: Record<ConnectionState, string> = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

/** How often the page measures the round trip. */
const PING_EVERY = 5000;

/**
 * The status bar: the connection state (also on `<body data-connection>`), the transport the
 * engine uses now (it starts on polling and upgrades to WebSocket), the round-trip time of a
 * ping acked by the server, and how many clients are connected.
 */
export function setupStatusBar(manager: Manager, status: Socket<StatusServerEvents, StatusClientEvents>): void {
  const label = byId("conn-label");
  const transport = byId("transport");
  const rtt = byId("rtt");
  const clients = byId("clients");

  const show = (state: ConnectionState): void => {
    document.body.dataset.connection = state;
    label.textContent = LABELS[state];
  };
  const refresh = (): void => {
    if (status.connected) show("connected");
    else if (!navigator.onLine || !status.active) show("offline");
    else show("reconnecting");
  };

  status.on("connect", () => {
    refresh();
    void ping();
  });
  status.on("disconnect", () => {
    refresh();
    transport.textContent = "–";
    rtt.textContent = "–";
  });
  manager.on("reconnect_attempt", refresh);
  window.addEventListener("online", refresh);
  window.addEventListener("offline", refresh);

  // each reconnection opens a new engine: watch its upgrade from polling to WebSocket
  manager.on("open", () => {
    const engine = manager.engine;
    transport.textContent = engine.transport.name;
    engine.on("upgrade", (upgraded) => {
      transport.textContent = upgraded.name;
      void ping(); // the first ping went over polling
    });
  });

  status.on("clients", (count) => {
    clients.textContent = String(count);
  });

  const ping = async (): Promise<void> => {
    if (!status.connected) return;
    const start = performance.now();
    try {
      await status.timeout(PING_EVERY).emitWithAck("ping");
      const ms = performance.now() - start;
      rtt.textContent = ms < 1 ? "<1 ms" : `${Math.round(ms)} ms`;
    } catch {
      rtt.textContent = "–"; // no answer in time; the next ping tries again
    }
  };
  setInterval(() => void ping(), PING_EVERY);
}
