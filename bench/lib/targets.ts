import type { ServerCommands, ServerReady } from "./commands.js";
import { childScript } from "./compile.js";
import { Peer } from "./ipc.js";

export type TargetName = "tutti" | "socketio" | "ws";

export interface TargetSpec {
  name: TargetName;
  label: string;
  /** Source under bench/, e.g. "servers/tutti.ts". */
  source: string;
  /** The raw ws baseline speaks only the WebSocket transport. */
  polling: boolean;
}

/** In the order every round runs them: A B C, A B C, ... */
export const TARGETS: readonly TargetSpec[] = [
  { name: "tutti", label: "Tutti", source: "servers/tutti.ts", polling: true },
  { name: "socketio", label: "socket.io", source: "servers/socketio.ts", polling: true },
  { name: "ws", label: "raw ws", source: "servers/ws.ts", polling: false },
];

export type ServerPeer = Peer<ServerCommands, ServerReady>;

export interface StartOptions {
  /** Node flags for this target only (the profiler goes on Tutti alone). */
  nodeFlags?: readonly string[];
}

export async function startTarget(
  spec: TargetSpec,
  opts: StartOptions = {},
): Promise<{ peer: ServerPeer; ready: ServerReady }> {
  const peer: ServerPeer = new Peer(childScript(spec.source), { nodeFlags: opts.nodeFlags ?? [] });
  try {
    return { peer, ready: await peer.ready };
  } catch (err) {
    peer.child.kill("SIGKILL");
    throw err;
  }
}
