import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { Server } from "../src/index.js";
import { startIo, waitFor } from "./sio-helpers.js";

const run = promisify(execFile);
const require = createRequire(import.meta.url);

test("the README's example runs as written, with the official client", async (t) => {
  const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  const [server = "", client = ""] = blocks;
  assert.ok(server.includes('from "tutti"') && client.includes('from "socket.io-client"'));
  const tutti = pathToFileURL(require.resolve("tutti")).href;
  const sioClient = pathToFileURL(require.resolve("socket.io-client")).href;
  const serverProgram = server
    .replace('from "tutti"', `from ${JSON.stringify(tutti)}`)
    .replace(
      "httpServer.listen(3000);",
      "httpServer.listen(0, '127.0.0.1', () => console.log('port', httpServer.address().port));",
    );
  const clientProgram = [
    client
      .replace('from "socket.io-client"', `from ${JSON.stringify(sioClient)}`)
      .replace('"http://localhost:3000"', '"http://127.0.0.1:" + process.env.PORT'),
    "console.log(JSON.stringify({ status }));",
    "socket.close();",
  ].join("\n");
  const dir = await mkdtemp(join(tmpdir(), "tutti-readme-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "server.mjs"), serverProgram);
  writeFileSync(join(dir, "client.mjs"), clientProgram);
  const child = spawn(process.execPath, [join(dir, "server.mjs")], { stdio: ["ignore", "pipe", "inherit"] });
  t.after(() => child.kill());
  let output = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    output += chunk;
  });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", () => {
      const m = /port (\d+)/.exec(output);
      if (m) resolve(m[1] as string);
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
  const { stdout } = await run(process.execPath, [join(dir, "client.mjs")], {
    timeout: 20_000,
    env: { ...process.env, PORT: port },
  });
  assert.match(stdout, /\{"status":"delivered"\}/);
  // the server logs the socket's disconnect reason once the client has gone
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (/left: (transport close|client namespace disconnect)/.test(output)) resolve();
    };
    child.stdout.on("data", check);
    check();
  });
});

test("io.engine.generateId assigned after construction names the sessions, as engine.io apps do", async (t) => {
  const s = await startIo();
  t.after(() => s.close());
  let n = 0;
  s.io.engine.generateId = () => `custom-${++n}`;
  const client = s.client();
  await waitFor(client, "connect");
  assert.equal(client.io.engine.id, "custom-1");
  assert.ok(s.io.engine.clients.has("custom-1"));
});

test("a Server created with options only can attach later; its engine exists once attached", () => {
  const io = new Server({ connectTimeout: 1000 });
  assert.equal(io.engine, undefined);
  assert.equal(io.connectTimeout(), 1000);
  assert.equal(io.path(), "/socket.io");
});
