// The published package, as apps get it: `npm pack` (which builds it), unpacked into
// temporary consumer projects whose node_modules hold "tutti" and links to its declared
// dependencies only, then each import form compiled (skipLibCheck false, strict) and run.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const packageDir = join(here, "..");
const repoModules = join(packageDir, "..", "..", "node_modules");
const fixtures = join(here, "consumers");

// Node before 20.19 has no require() of an ES module; from 20.17 this flag turns it off, and
// before that there is nothing to turn off
const NO_REQUIRE_ESM = process.allowedNodeEnvironmentFlags.has("--experimental-require-module")
  ? ["--no-experimental-require-module"]
  : [];

let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "tutti-package-"));
  // prepack builds dist/ first
  const { stdout } = await run("npm", ["pack", "--silent", "--pack-destination", work], {
    cwd: packageDir,
    maxBuffer: 1 << 24,
  });
  const tarball = join(work, stdout.trim().split("\n").at(-1) as string);
  const installed = join(work, "node_modules", "tutti");
  mkdirSync(installed, { recursive: true });
  await run("tar", ["-xzf", tarball, "--strip-components=1", "-C", installed]);
  // the declared dependencies only, linked from the workspace (their own resolve from there)
  const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  for (const name of Object.keys(manifest.dependencies)) {
    mkdirSync(dirname(join(work, "node_modules", name)), { recursive: true });
    symlinkSync(join(repoModules, name), join(work, "node_modules", name), "dir");
  }
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Output of `node args` in `cwd` (stderr shown on failure). */
async function node(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, args, { cwd, timeout: 60_000 });
  return stdout;
}

/** Copies a fixture project, compiles it with the workspace's tsc (strict, skipLibCheck false). */
async function compile(
  fixture: string,
  packageJson: Record<string, unknown>,
  compilerOptions: Record<string, unknown>,
): Promise<string> {
  const dir = join(work, fixture);
  cpSync(join(fixtures, fixture), join(dir, "src"), { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: `consumer-${fixture}`, private: true, ...packageJson }),
  );
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        strict: true,
        skipLibCheck: false,
        rootDir: "src",
        outDir: "out",
        types: ["node"],
        ...compilerOptions,
      },
      include: ["src"],
    }),
  );
  const tsc = join(repoModules, "typescript", "bin", "tsc");
  await run(process.execPath, [tsc, "-p", dir], { cwd: dir }).catch((err: { stdout?: string }) => {
    assert.fail(`tsc failed in ${fixture}:\n${err.stdout ?? String(err)}`);
  });
  return dir;
}

const EXPECTED_CHECK = {
  sameServer: true,
  callableMakesServer: true,
  callable: "hi ada",
  bundle: [200, "application/javascript; charset=utf-8", true],
  port: "hi ada",
  constructor: "hi ada",
  newCallable: true,
  jwt: "hi ada (ada)",
  jwtRefused: { connectError: { code: "AUTH_INVALID" } },
};

describe("the packed package from CommonJS", () => {
  test("require('tutti')(httpServer | port, opts), .Server, new, the jwt guard and the client bundle", async () => {
    const dir = join(work, "check");
    mkdirSync(dir);
    cpSync(join(fixtures, "check.cjs"), join(dir, "check.cjs"));
    assert.deepEqual(JSON.parse(await node(dir, ["check.cjs"])), EXPECTED_CHECK);
  });

  test("the same on Node before 20.19 (--no-experimental-require-module): nothing requires an ES module", async () => {
    const dir = join(work, "check");
    assert.deepEqual(JSON.parse(await node(dir, [...NO_REQUIRE_ESM, "check.cjs"])), EXPECTED_CHECK);
  });
});

describe("the packed package's declarations in consumer projects", () => {
  test("CommonJS (module commonjs): import = require, named and default imports; compiles and runs", async () => {
    const dir = await compile("cjs", {}, { module: "commonjs", esModuleInterop: true });
    assert.deepEqual(JSON.parse(await node(dir, [...NO_REQUIRE_ESM, "out/main.js"])), {
      reply: "hi ada",
      defaultIsCallable: true,
      server: true,
    });
  });

  test("NodeNext CommonJS: import = require of tutti and tutti/testing; compiles and runs", async () => {
    const dir = await compile("nodenext-cjs", {}, { module: "NodeNext", moduleResolution: "NodeNext" });
    assert.deepEqual(JSON.parse(await node(dir, [...NO_REQUIRE_ESM, "out/main.js"])), {
      reply: "hi ada",
      server: true,
      testing: "object",
    });
  });

  test("NodeNext ES module: named and default imports, one copy of Server beside require; compiles and runs", async () => {
    const dir = await compile("esm", { type: "module" }, { module: "NodeNext", moduleResolution: "NodeNext" });
    assert.deepEqual(JSON.parse(await node(dir, ["out/main.js"])), {
      reply: "hi ada",
      sameServer: true,
      server: true,
      testing: "object",
    });
  });
});
