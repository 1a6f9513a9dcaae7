/**
 * The four guards together, in the order docs/guards.md recommends, through the official client;
 * and the guard messages against docs/errors.md.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { type JWTPayload, SignJWT } from "jose";
import { z } from "zod";
import {
  authorize,
  type EventsFromSchemas,
  GuardCodes,
  GuardError,
  GuardEvents,
  GuardMessages,
  jwt,
  rateLimit,
  type Server,
  TuttiError,
  validate,
} from "../src/index.js";
import { cleanupsAfterEach } from "./guard-helpers.js";
import { connected, startIo, waitFor } from "./sio-helpers.js";

const cleanups = cleanupsAfterEach();

const SECRET = new TextEncoder().encode("a-test-secret-that-is-32-bytes-long!");
const sign = (claims: JWTPayload): Promise<string> =>
  new SignJWT({ sub: "ada", ...claims }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("1h").sign(SECRET);

const schemas = {
  join: z.string().regex(/^[a-z]{1,20}$/),
  say: [z.string(), z.string().min(1).max(500)],
} as const;

type Claims = JWTPayload & { rooms?: string[] };

test("jwt → rateLimit → authorize → validate: each refusal comes from the right guard", async () => {
  const s = await startIo();
  cleanups.push(() => s.close());
  const io = s.io as unknown as Server<EventsFromSchemas<typeof schemas>>;
  io.use(jwt({ secret: SECRET }));
  io.use(rateLimit({ perSocket: { burst: 20, perSecond: 1 }, perEvent: { say: { burst: 3, perSecond: 0.01 } } }));
  io.use(
    authorize<Claims>({
      join: (room, claims) => claims?.rooms?.includes(room) === true,
      emit: (event, args, claims) => event !== "say" || claims?.rooms?.includes(String(args[0])) === true,
    }),
  );
  io.use(validate(schemas));
  const said: string[] = [];
  io.on("connection", (socket) => {
    socket.on("join", (room, ack) => {
      if (!socket.canJoin(room)) return ack({ code: "ACCESS_DENIED" });
      socket.join(room);
      ack({ ok: true });
    });
    // typed from the schemas: room and text are strings
    socket.on("say", (room, text, ack) => {
      said.push(`${room}:${text}`);
      ack({ ok: true });
    });
  });

  const refused = s.client("/");
  const [err] = await waitFor<[Error & { data: unknown }]>(refused, "connect_error");
  assert.deepEqual(err.data, { code: "AUTH_REQUIRED" });

  const client = s.client("/", { auth: { token: await sign({ rooms: ["lobby"] }) } });
  await connected(client);
  const ask = (event: string, ...args: unknown[]): Promise<{ ok?: true; code?: string }> =>
    client.timeout(5000).emitWithAck(event, ...args);

  assert.deepEqual(await ask("join", "lobby"), { ok: true });
  assert.deepEqual(await ask("join", "staff"), { code: "ACCESS_DENIED" }); // the app's answer from canJoin
  assert.equal((await ask("say", "staff", "hi")).code, "ACCESS_DENIED"); // authorize
  assert.equal((await ask("say", "lobby", "")).code, "INVALID_PAYLOAD"); // validate
  assert.deepEqual(await ask("say", "lobby", "hello"), { ok: true });
  assert.equal((await ask("say", "lobby", "again")).code, "RATE_LIMITED"); // "say" had a burst of 3
  // the refresh is the jwt guard's: it reaches neither the other guards nor the app
  assert.equal((await ask(GuardEvents.REFRESH, await sign({ rooms: ["lobby", "staff"] }))).ok, true);
  assert.deepEqual(await ask("join", "staff"), { ok: true });
  assert.deepEqual(said, ["lobby:hello"]);
});

test("a tutti:refresh refused past refreshRate counts toward rateLimit's disconnect", async () => {
  const s = await startIo();
  cleanups.push(() => s.close());
  s.io.use(jwt({ secret: SECRET, refreshRate: { burst: 1, perSecond: 0.001 } }));
  s.io.use(rateLimit({ perSocket: { burst: 100, perSecond: 1 }, disconnectAfter: 3 }));
  const reasons: string[] = [];
  s.io.on("connection", (socket) => socket.on("disconnect", (reason) => reasons.push(reason)));
  const client = s.client("/", { auth: { token: await sign({}) } });
  await connected(client);
  const token = await sign({});
  const refresh = (): Promise<{ ok?: true; code?: string }> =>
    client.timeout(5000).emitWithAck(GuardEvents.REFRESH, token);
  assert.equal((await refresh()).ok, true);
  assert.equal((await refresh()).code, "RATE_LIMITED");
  assert.equal((await refresh()).code, "RATE_LIMITED");
  const told = waitFor<[{ code: string }]>(client, GuardEvents.DISCONNECT);
  const gone = waitFor<[string]>(client, "disconnect");
  client.emit(GuardEvents.REFRESH, token); // the third refusal
  assert.equal((await told)[0].code, "RATE_LIMITED");
  assert.equal((await gone)[0], "io server disconnect");
  assert.deepEqual(reasons, ["rate limited"]);
});

test("GuardMessages match the message column of docs/errors.md, code for code", () => {
  const doc = readFileSync(new URL("../../../docs/errors.md", import.meta.url), "utf8");
  const section = doc.split(/^## /m).find((s) => s.startsWith("Guard codes")) ?? "";
  const rows = section
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) =>
      line
        .slice(1, -1)
        .split("|")
        .map((cell) => cell.trim()),
    );
  const documented = Object.fromEntries(rows.map((r) => [(r[0] as string).replaceAll("`", ""), r[2]]));
  assert.deepEqual(documented, GuardMessages);
  assert.deepEqual(Object.keys(GuardMessages).sort(), Object.keys(GuardCodes).sort());
});

test("a guard's refusal is a TuttiError with the guard code: one error class", () => {
  const err = GuardError.of("RATE_LIMITED");
  assert.ok(err instanceof TuttiError);
  assert.equal(err.code, "RATE_LIMITED");
  assert.equal(err.message, "Rate limit exceeded");
  assert.deepEqual(err.data, { code: "RATE_LIMITED" });
  assert.equal(err.status, undefined);
});
