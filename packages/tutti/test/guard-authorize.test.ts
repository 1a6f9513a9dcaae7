/**
 * The `authorize` guard through the official client: namespaces, rooms and events decided from
 * the socket's claims, alone (claims set by the app's own middleware) and behind `jwt`.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type JWTPayload, SignJWT } from "jose";
import type { Socket as ClientSocket } from "socket.io-client";
import {
  type AuthorizeOptions,
  authorize,
  GuardError,
  GuardEvents,
  jwt,
  type Socket as ServerSocket,
  TuttiError,
} from "../src/index.js";
import { cleanupsAfterEach, next } from "./guard-helpers.js";
import { connected, type RunningIo, startIo } from "./sio-helpers.js";

const cleanups = cleanupsAfterEach();

interface Claims {
  sub: string;
  role: "reader" | "writer" | "admin";
  rooms?: string[];
}

interface App {
  s: RunningIo;
  /** Events whose handler ran, in order. */
  handled: string[];
  errors: GuardError[];
}

/**
 * A server whose sockets get their claims from `auth.claims` (a stand-in for `jwt`), guarded by
 * `authorize(options)`. Handlers: "join" (asks the server to join a room), "post", "read", "ping".
 */
async function start(options: AuthorizeOptions<Claims>, nsp = "/"): Promise<App> {
  const s = await startIo();
  cleanups.push(() => s.close());
  const handled: string[] = [];
  const errors: GuardError[] = [];
  const namespace = s.io.of(nsp);
  namespace.use((socket, next) => {
    socket.data = { claims: socket.handshake.auth.claims };
    next();
  });
  namespace.use(authorize(options));
  namespace.on("connection", (socket) => {
    socket.on("error", (err) => errors.push(err as GuardError));
    socket.on("join", (room: string, ack: (r: unknown) => void) => {
      handled.push("join");
      try {
        socket.join(room);
        ack({ ok: true, rooms: [...socket.rooms].filter((r) => r !== socket.id) });
      } catch (err) {
        ack({ code: (err as TuttiError).code });
      }
    });
    for (const name of ["post", "read"]) {
      socket.on(name, (...args: unknown[]) => {
        handled.push(name);
        const ack = args.at(-1);
        if (typeof ack === "function") ack({ ok: true });
      });
    }
    socket.on("ping", (ack: (v: string) => void) => ack("pong"));
  });
  return { s, handled, errors };
}

async function connect(
  app: App,
  claims: Claims | undefined,
  nsp = "/",
): Promise<{ client: ClientSocket; server: ServerSocket }> {
  const serverSide = next<[ServerSocket]>(app.s.io.of(nsp), "connection");
  const client = app.s.client(nsp, { auth: claims === undefined ? {} : { claims } });
  const [, [server]] = await Promise.all([connected(client), serverSide]);
  return { client, server };
}

const reader: Claims = { sub: "ada", role: "reader", rooms: ["lobby"] };
const writer: Claims = { sub: "bob", role: "writer", rooms: ["lobby", "staff"] };
const admin: Claims = { sub: "eve", role: "admin" };

describe("authorize", () => {
  test("connect: a refused socket gets connect_error 'Access denied' / ACCESS_DENIED", async () => {
    const app = await start({ connect: (claims) => claims?.role === "admin" }, "/admin");
    const client = app.s.client("/admin", { auth: { claims: reader } });
    const [err] = await next<[Error & { data: unknown }]>(client, "connect_error");
    assert.equal(err.message, "Access denied");
    assert.deepEqual(err.data, { code: "ACCESS_DENIED" });
    const noClaims = app.s.client("/admin");
    assert.deepEqual((await next<[Error & { data: unknown }]>(noClaims, "connect_error"))[0].data, {
      code: "ACCESS_DENIED",
    });
    await connect(app, admin, "/admin");
  });

  test("connect: async predicates, and a predicate that throws refuses", async () => {
    const app = await start({
      connect: async (claims) => {
        if (claims?.role === "writer") throw new Error("directory down");
        return claims !== undefined;
      },
    });
    await connect(app, reader);
    const [err] = await next<[Error & { data: unknown }]>(
      app.s.client("/", { auth: { claims: writer } }),
      "connect_error",
    );
    assert.deepEqual(err.data, { code: "ACCESS_DENIED" });
  });

  test("join: joinPolicy from the claims; join() throws JOIN_NOT_ALLOWED and joins nothing; canJoin asks", async () => {
    const app = await start({
      join: (room, claims) => claims?.role === "admin" || (claims?.rooms ?? []).includes(room),
    });
    const { client, server } = await connect(app, reader);
    assert.deepEqual(await client.timeout(5000).emitWithAck("join", "lobby"), { ok: true, rooms: ["lobby"] });
    assert.deepEqual(await client.timeout(5000).emitWithAck("join", "staff"), { code: "JOIN_NOT_ALLOWED" });
    assert.deepEqual([...server.rooms].sort(), [server.id, "lobby"].sort());
    assert.equal(server.canJoin("staff"), false);
    assert.equal(server.canJoin("lobby"), true);
    // a list with one refused room joins none of them
    assert.throws(
      () => server.join(["lobby", "x", "staff"]),
      (err: unknown) => err instanceof TuttiError && err.code === "JOIN_NOT_ALLOWED",
    );
    assert.equal(server.rooms.has("x"), false);

    const boss = await connect(app, admin);
    assert.deepEqual(await boss.client.timeout(5000).emitWithAck("join", "staff"), { ok: true, rooms: ["staff"] });
  });

  test("join: a predicate that throws refuses the room", async () => {
    const app = await start({
      join: () => {
        throw new Error("bug");
      },
    });
    const { client } = await connect(app, reader);
    assert.deepEqual(await client.timeout(5000).emitWithAck("join", "lobby"), { code: "JOIN_NOT_ALLOWED" });
  });

  test("emit: a refused event never reaches its handler; the ack gets ACCESS_DENIED; error listeners get a GuardError", async () => {
    const app = await start({ emit: (event, _args, claims) => event !== "post" || claims?.role !== "reader" });
    const { client } = await connect(app, reader);
    const refused = await client.timeout(5000).emitWithAck("post", "hello");
    assert.deepEqual(refused, { code: "ACCESS_DENIED", message: "Access denied" });
    assert.deepEqual(await client.timeout(5000).emitWithAck("read"), { ok: true });
    assert.deepEqual(app.handled, ["read"]);
    assert.equal(app.errors.length, 1);
    assert.ok(app.errors[0] instanceof GuardError);
    assert.equal(app.errors[0]?.code, "ACCESS_DENIED");

    const w = await connect(app, writer);
    assert.deepEqual(await w.client.timeout(5000).emitWithAck("post", "hello"), { ok: true });
  });

  test("emit: without an ack the refusal is silent, and the handler still does not run", async () => {
    const app = await start({ emit: (event) => event !== "post" });
    const { client } = await connect(app, reader);
    client.emit("post", "no ack");
    // events of one socket are handled in order: once "ping" is answered, "post" was refused
    assert.equal(await client.timeout(5000).emitWithAck("ping"), "pong");
    assert.deepEqual(app.handled, []);
    assert.equal(app.errors.length, 1);
  });

  test("emit: the predicate sees the arguments without the ack, may be async, and fails closed", async () => {
    const seen: unknown[][] = [];
    const app = await start({
      emit: async (event, args) => {
        seen.push([event, ...args]);
        if (args[0] === "boom") throw new Error("bug");
        return args[0] !== "forbidden";
      },
    });
    const { client } = await connect(app, reader);
    assert.deepEqual(await client.timeout(5000).emitWithAck("read", "fine", 2), { ok: true });
    assert.equal((await client.timeout(5000).emitWithAck("read", "forbidden")).code, "ACCESS_DENIED");
    assert.equal((await client.timeout(5000).emitWithAck("read", "boom")).code, "ACCESS_DENIED");
    assert.deepEqual(seen.slice(0, 3), [
      ["read", "fine", 2],
      ["read", "forbidden"],
      ["read", "boom"],
    ]);
    assert.deepEqual(app.handled, ["read"]);
    assert.equal(app.errors.at(-1)?.cause instanceof Error, true);
  });

  test("behind jwt: claims from the token, and a refreshed token applies at once", async () => {
    const secret = new TextEncoder().encode("a-test-secret-that-is-32-bytes-long!");
    const sign = (claims: JWTPayload): Promise<string> =>
      new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setExpirationTime("1h").sign(secret);
    const s = await startIo();
    cleanups.push(() => s.close());
    s.io.use(jwt({ secret }));
    s.io.use(
      authorize<JWTPayload & { role?: string }>({
        join: (room, claims) => room !== "staff" || claims?.role === "staff",
        emit: (event, _args, claims) => event !== "announce" || claims?.role === "staff",
      }),
    );
    s.io.on("connection", (socket) => {
      socket.on("join", (room: string, ack: (r: unknown) => void) => ack(socket.canJoin(room)));
      socket.on("announce", (ack: (r: unknown) => void) => ack("announced"));
    });
    const client = s.client("/", { auth: { token: await sign({ sub: "ada", role: "guest" }) } });
    await connected(client);
    assert.equal(await client.timeout(5000).emitWithAck("join", "staff"), false);
    assert.equal((await client.timeout(5000).emitWithAck("announce")).code, "ACCESS_DENIED");
    const refreshed = await client
      .timeout(5000)
      .emitWithAck(GuardEvents.REFRESH, await sign({ sub: "ada", role: "staff" }));
    assert.equal(refreshed.ok, true);
    assert.equal(await client.timeout(5000).emitWithAck("join", "staff"), true);
    assert.equal(await client.timeout(5000).emitWithAck("announce"), "announced");
  });

  test("behind jwt: a refresh re-checks the claims: rooms now refused are left, a refused namespace disconnects", async () => {
    const secret = new TextEncoder().encode("a-test-secret-that-is-32-bytes-long!");
    type RoomClaims = JWTPayload & { rooms?: string[]; banned?: boolean };
    const sign = (claims: RoomClaims): Promise<string> =>
      new SignJWT({ sub: "ada", ...claims }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("1h").sign(secret);
    const s = await startIo();
    cleanups.push(() => s.close());
    s.io.use(jwt({ secret }));
    s.io.use(
      authorize<RoomClaims>({
        connect: async (claims) => claims?.banned !== true,
        join: (room, claims) => claims?.rooms?.includes(room) === true,
      }),
    );
    const disconnects: unknown[][] = [];
    s.io.on("connection", (socket) => {
      socket.on("join", (room: string, ack: (r: unknown) => void) => {
        socket.join(room);
        ack("joined");
      });
      socket.on("disconnect", (...args: unknown[]) => disconnects.push(args));
    });
    const serverSide = next<[ServerSocket]>(s.io, "connection");
    const client = s.client("/", { auth: { token: await sign({ rooms: ["lobby", "staff", "ops"] }) } });
    const [, [server]] = await Promise.all([connected(client), serverSide]);
    const refresh = async (claims: RoomClaims) =>
      client.timeout(5000).emitWithAck(GuardEvents.REFRESH, await sign(claims));
    for (const room of ["lobby", "staff", "ops"])
      assert.equal(await client.timeout(5000).emitWithAck("join", room), "joined");
    server.join(server.id); // its own room is never re-checked

    // the refresh is acked once the rooms are re-checked
    assert.equal((await refresh({ rooms: ["lobby"] })).ok, true);
    assert.deepEqual([...server.rooms].sort(), [server.id, "lobby"].sort());
    assert.ok(client.connected);

    const told = next<[unknown]>(client, GuardEvents.DISCONNECT);
    const gone = next<[string]>(client, "disconnect");
    client.timeout(5000).emit(GuardEvents.REFRESH, await sign({ rooms: ["lobby"], banned: true }), () => {});
    assert.deepEqual((await told)[0], { code: "ACCESS_DENIED", message: "Access denied" });
    assert.equal((await gone)[0], "io server disconnect");
    assert.equal(disconnects.length, 1);
    assert.equal(disconnects[0]?.[0], "server namespace disconnect");
    assert.equal((disconnects[0]?.[1] as GuardError | undefined)?.code, "ACCESS_DENIED");
  });

  test("behind jwt, recheckOnRefresh: false: connect runs once per socket, and rooms stay", async () => {
    const secret = new TextEncoder().encode("a-test-secret-that-is-32-bytes-long!");
    const sign = (claims: JWTPayload): Promise<string> =>
      new SignJWT({ sub: "ada", ...claims }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("1h").sign(secret);
    const s = await startIo();
    cleanups.push(() => s.close());
    s.io.use(jwt({ secret }));
    let connects = 0;
    s.io.use(
      authorize<JWTPayload & { rooms?: string[] }>({
        connect: () => ++connects === 1, // a predicate that reserves something: only once
        join: (room, claims) => claims?.rooms?.includes(room) === true,
        recheckOnRefresh: false,
      }),
    );
    s.io.on("connection", (socket) => {
      socket.on("join", (room: string, ack: (r: unknown) => void) => {
        socket.join(room);
        ack([...socket.rooms].filter((r) => r !== socket.id));
      });
    });
    const client = s.client("/", { auth: { token: await sign({ rooms: ["lobby"] }) } });
    await connected(client);
    assert.deepEqual(await client.timeout(5000).emitWithAck("join", "lobby"), ["lobby"]);
    assert.equal((await client.timeout(5000).emitWithAck(GuardEvents.REFRESH, await sign({ rooms: [] }))).ok, true);
    assert.equal(connects, 1);
    assert.ok(client.connected);
    // still in the room (joining it again is a no-op): it was not re-checked
    assert.deepEqual(await client.timeout(5000).emitWithAck("join", "lobby"), ["lobby"]);
  });

  test("two authorize guards: both policies must allow a room", async () => {
    const s = await startIo();
    cleanups.push(() => s.close());
    s.io.use(authorize({ join: (room) => room !== "a" }));
    s.io.use(authorize({ join: (room) => room !== "b" }));
    s.io.on("connection", (socket) => {
      socket.on("can", (room: string, ack: (r: boolean) => void) => ack(socket.canJoin(room)));
    });
    const client = s.client("/");
    await connected(client);
    assert.equal(await client.timeout(5000).emitWithAck("can", "a"), false);
    assert.equal(await client.timeout(5000).emitWithAck("can", "b"), false);
    assert.equal(await client.timeout(5000).emitWithAck("can", "c"), true);
  });
});
