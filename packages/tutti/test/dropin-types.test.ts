// Type-level drop-in: socket.io app code (test/consumers/dropin/app.ts), unchanged but for its
// import, compiled with strict and skipLibCheck false against the package's built declarations
// (dist/, as `npm test` builds it first), with express and express-session's own types.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const repoModules = join(here, "..", "..", "..", "node_modules");
const tsc = join(repoModules, "typescript", "bin", "tsc");

test("socket.io app code, its import changed, compiles against the built declarations", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tutti-dropin-types-"));
  try {
    // the fixture stays where it is, so "tutti" resolves to this package (self-reference) and
    // express's types to the workspace's
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          typeRoots: [join(repoModules, "@types")],
          types: ["node"],
        },
        files: [join(here, "consumers", "dropin", "app.ts")],
      }),
    );
    const result = await run(process.execPath, [tsc, "-p", dir], { cwd: dir, timeout: 120_000 }).then(
      () => "",
      (err: { stdout?: string }) => err.stdout ?? String(err),
    );
    assert.equal(result, "");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
