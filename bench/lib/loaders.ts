import type { LoadCommands } from "./commands.js";
import { childScript } from "./compile.js";
import { Peer } from "./ipc.js";

export type LoaderPeer = Peer<LoadCommands, { pid: number }>;

/** Starts the load-generator processes; they live for the whole run and serve every target alike. */
export async function startLoaders(count: number): Promise<LoaderPeer[]> {
  const loaders = Array.from({ length: count }, (): LoaderPeer => new Peer(childScript("load/worker.ts")));
  await Promise.all(loaders.map((l) => l.ready));
  return loaders;
}
