import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/**
 * Child processes (servers and load generators) run as plain JavaScript: starting one through
 * tsx costs about half a second of module loading, paid once per run and about fifty times in
 * quick mode. So their sources are transpiled once per benchmark run, without type checking
 * (`tsc --noEmit -p bench` does that), into a folder under bench/ so that "tutti", "socket.io"
 * and "ws" resolve exactly as they would from the sources.
 */
const BENCH = fileURLToPath(new URL("..", import.meta.url));
const OUT = join(BENCH, "results", ".js");
const SOURCES = ["lib", "servers", "load"];
const TUTTI = join(BENCH, "..", "packages", "tutti");

let compiled = false;

/**
 * Tutti is snapshotted too: its build is copied to results/.js/node_modules/tutti, which the
 * children resolve before the workspace link. Others rebuild packages/tutti/dist while a full run
 * goes on; without the copy, later rounds would measure a different build than earlier ones.
 */
function snapshotTutti(): void {
  const target = join(OUT, "node_modules", "tutti");
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  cpSync(join(TUTTI, "package.json"), join(target, "package.json"));
  cpSync(join(TUTTI, "dist"), join(target, "dist"), { recursive: true });
}

function transpileAll(): void {
  for (const dir of SOURCES) {
    for (const file of readdirSync(join(BENCH, dir), { recursive: true, encoding: "utf8" })) {
      if (!file.endsWith(".ts")) continue;
      const source = join(BENCH, dir, file);
      const { outputText } = ts.transpileModule(readFileSync(source, "utf8"), {
        fileName: source,
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      });
      const target = join(OUT, relative(BENCH, source)).replace(/\.ts$/, ".js");
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, outputText);
    }
  }
}

/** The runnable JavaScript for a child's source, e.g. "servers/tutti.ts". */
export function childScript(source: string): string {
  if (!compiled) {
    transpileAll();
    snapshotTutti();
    compiled = true;
  }
  return join(OUT, source.replace(/\.ts$/, ".js"));
}
