import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { dirname, join } from "node:path";

/** Where and with what a run was made: printed at the top of RESULTS.md. */
export interface Environment {
  cpu: string;
  cores: number;
  ramGiB: number;
  os: string;
  kernel: string;
  node: string;
  tutti: string;
  versions: Record<string, string>;
}

function cpuModel(): string {
  const info = readFileSync("/proc/cpuinfo", "utf8");
  return /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? os.cpus()[0]?.model ?? "unknown";
}

function osName(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? os.type();
  } catch {
    return os.type();
  }
}

const git = (args: string[]): string => execFileSync("git", args, { encoding: "utf8" }).trim();

/** The commit, flagged when the library has changes on top of it (the numbers are then of the working tree). */
function tuttiRevision(): string {
  try {
    const head = git(["rev-parse", "--short", "HEAD"]);
    const dirty = git(["status", "--porcelain", "--", "packages/tutti"]) !== "";
    return dirty ? `${head} + uncommitted changes in packages/tutti` : head;
  } catch {
    return "unknown";
  }
}

/** The installed version of `name`, found from its entry point up to its package.json. */
function installedVersion(name: string): string {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve(name));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { name?: string; version?: string };
      if (pkg.name === name) return pkg.version ?? "unknown";
    }
    const parent = dirname(dir);
    if (parent === dir) return "unknown";
    dir = parent;
  }
}

export function describeEnvironment(): Environment {
  return {
    cpu: cpuModel(),
    cores: os.cpus().length,
    ramGiB: Math.round(os.totalmem() / 2 ** 30),
    os: osName(),
    kernel: os.release(),
    node: process.version,
    tutti: tuttiRevision(),
    versions: Object.fromEntries(["socket.io", "engine.io", "ws"].map((n) => [n, installedVersion(n)])),
  };
}
