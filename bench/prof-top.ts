import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * Summarizes V8 CPU profiles (from `npm run bench -- --prof`): functions by self time, and the
 * share of each source (Tutti, ws, socket.io, Node internals, GC, idle).
 * Usage: node --import tsx bench/prof-top.ts bench/profiles/*.cpuprofile [--top=25]
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function source(url: string, name: string): string {
  if (name === "(garbage collector)") return "GC";
  if (name === "(idle)") return "idle";
  if (name === "(program)") return "(program)";
  if (url.includes("/packages/tutti/")) return "tutti";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.startsWith("node:")) return "node internals";
  if (url.includes("/bench/")) return "bench harness";
  return url === "" ? "native (syscalls, builtins)" : "other";
}

function summarize(files: string[], top: number): void {
  const bySelf = new Map<string, number>();
  const bySource = new Map<string, number>();
  let total = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const node = nodes.get(id);
      const dt = profile.timeDeltas[i] ?? 0;
      if (!node) return;
      const { functionName, url, lineNumber } = node.callFrame;
      const name = functionName || "(anonymous)";
      const key = `${name}  ${url ? `${basename(url)}:${lineNumber + 1}` : ""}`;
      bySelf.set(key, (bySelf.get(key) ?? 0) + dt);
      const src = source(url, name);
      bySource.set(src, (bySource.get(src) ?? 0) + dt);
      total += dt;
    });
  }
  const busy = total - (bySource.get("idle") ?? 0);
  const pct = (us: number): string => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  console.log(`${files.length} profile(s), ${(busy / 1e6).toFixed(2)} s busy (idle excluded)\n\nby source:`);
  for (const [src, us] of [...bySource].filter(([s]) => s !== "idle").sort((a, b) => b[1] - a[1])) {
    console.log(`  ${pct(us)}  ${src}`);
  }
  console.log(`\ntop ${top} functions by self time:`);
  for (const [key, us] of [...bySelf]
    .filter(([k]) => !k.startsWith("(idle)"))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)) {
    console.log(`  ${pct(us)}  ${key}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const files = process.argv.slice(2).filter((a) => !a.startsWith("--"));
  const top = Number(process.argv.find((a) => a.startsWith("--top="))?.slice(6) ?? 25);
  if (files.length === 0) {
    console.error("usage: node --import tsx bench/prof-top.ts <file.cpuprofile>... [--top=25]");
    process.exit(1);
  }
  summarize(files, top);
}
