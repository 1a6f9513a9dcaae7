/**
 * The `jwt` guard through the official client: what the client sees (connect_error message and
 * data.code, tutti:* events, acks, "io server disconnect") and what the app sees (socket.data,
 * handlers, disconnect reasons). Tokens are real jose tokens; the JWKS is served over loopback.
 */
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { exportJWK, exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import type { Socket as ClientSocket } from "socket.io-client";
import {
  GuardError,
  GuardEvents,
  type JwtOptions,
  jwt,
  type Socket as ServerSocket,
  TuttiError,
} from "../src/index.js";
import { FakeClock } from "../src/testing/index.js";
import { cleanupsAfterEach } from "./guard-helpers.js";
import { connected, type RunningIo, startIo, type TransportMode, waitFor } from "./sio-helpers.js";

const cleanups = cleanupsAfterEach();

const SECRET = new TextEncoder().encode("a-test-secret-that-is-32-bytes-long!");
const OTHER_SECRET = new TextEncoder().encode("another-secret-that-is-32-bytes-long");

type Key = Parameters<SignJWT["sign"]>[0];

interface SignOptions {
  key?: Key;
  alg?: string;
  kid?: string;
  /** Seconds from now (may be negative), or none. */
  expiresIn?: number | null;
  /** What "now" is for `expiresIn`, in ms since the epoch: a fake clock's `date()`. Default `Date.now()`. */
  now?: number;
}

/** Signs `claims` (sub "ada" unless given) with the test secret and HS256 unless told otherwise. */
function sign(claims: JWTPayload = {}, opts: SignOptions = {}): Promise<string> {
  const token = new SignJWT({ sub: "ada", ...claims })
    .setProtectedHeader({ alg: opts.alg ?? "HS256", ...(opts.kid === undefined ? {} : { kid: opts.kid }) })
    .setIssuedAt();
  const expiresIn = opts.expiresIn === undefined ? 3600 : opts.expiresIn;
  if (expiresIn !== null) token.setExpirationTime(Math.floor((opts.now ?? Date.now()) / 1000) + expiresIn);
  return token.sign(opts.key ?? SECRET);
}

/** A Tutti server with `jwt(options)` on "/" (on `clock`, when given); the app's connections are recorded. */
async function start(
  options: JwtOptions,
  mode: TransportMode = "websocket",
  clock?: FakeClock,
): Promise<RunningIo & { sockets: ServerSocket[] }> {
  const s = await startIo(clock === undefined ? {} : { clock }, mode);
  cleanups.push(() => s.close());
  s.io.use(jwt(options));
  const sockets: ServerSocket[] = [];
  s.io.on("connection", (socket) => {
    sockets.push(socket);
    socket.on("ping", (ack: (v: string) => void) => ack("pong"));
  });
  return Object.assign(s, { sockets });
}

/** `waitFor` whose promise never becomes an unhandled rejection when a test fails first. */
function next<T extends unknown[] = unknown[]>(emitter: unknown, event: string, limitMs = 10_000): Promise<T> {
  const promise = waitFor<T>(emitter as Parameters<typeof waitFor>[0], event, limitMs);
  promise.catch(() => {});
  return promise;
}

type ConnectError = Error & { data?: { code?: string } };

/** Connects and expects a refusal: resolves with the connect_error. */
async function refusal(client: ClientSocket): Promise<ConnectError> {
  const [err] = await next<[ConnectError]>(client, "connect_error");
  return err;
}

async function connect(
  s: RunningIo & { sockets: ServerSocket[] },
  opts: Parameters<RunningIo["client"]>[1],
  mode?: TransportMode,
): Promise<{ client: ClientSocket; server: ServerSocket }> {
  const serverSide = next<[ServerSocket]>(s.io, "connection");
  const client = s.client("/", opts, mode);
  const [, [server]] = await Promise.all([connected(client), serverSide]);
  return { client, server };
}

function claimsOf(socket: ServerSocket): JWTPayload {
  return (socket.data as { claims: JWTPayload }).claims;
}

describe("jwt: the handshake", () => {
  test("a valid token connects, and its claims are in socket.data.claims", async () => {
    const s = await start({ secret: SECRET });
    const token = await sign({ role: "admin" });
    const { client, server } = await connect(s, { auth: { token } });
    assert.equal(claimsOf(server).sub, "ada");
    assert.equal(claimsOf(server).role, "admin");
    assert.equal(await client.timeout(5000).emitWithAck("ping"), "pong");
  });

  test("no token: connect_error 'Authentication required' / AUTH_REQUIRED, and the app never sees the socket", async () => {
    const s = await start({ secret: SECRET });
    const err = await refusal(s.client("/", { auth: {} }));
    assert.equal(err.message, "Authentication required");
    assert.deepEqual(err.data, { code: "AUTH_REQUIRED" });
    const empty = await refusal(s.client("/", { auth: { token: "" } }));
    assert.equal(empty.data?.code, "AUTH_REQUIRED");
    const notString = await refusal(s.client("/", { auth: { token: 42 } }));
    assert.equal(notString.data?.code, "AUTH_REQUIRED");
    assert.equal(s.sockets.length, 0);
  });

  test("a malformed token, a bad signature, an oversized token: AUTH_INVALID with a short message", async () => {
    const s = await start({ secret: SECRET });
    for (const token of ["not.a.jwt", "garbage", await sign({}, { key: OTHER_SECRET }), `${"x".repeat(9000)}`]) {
      const err = await refusal(s.client("/", { auth: { token } }));
      assert.equal(err.data?.code, "AUTH_INVALID", token.slice(0, 20));
      assert.ok(err.message === "Invalid token" || err.message === "Token too long", err.message);
    }
    assert.equal(s.sockets.length, 0);
  });

  test("an expired token: AUTH_EXPIRED", async () => {
    const s = await start({ secret: SECRET });
    const err = await refusal(s.client("/", { auth: { token: await sign({}, { expiresIn: -60 }) } }));
    assert.equal(err.message, "Token expired");
    assert.deepEqual(err.data, { code: "AUTH_EXPIRED" });
  });

  test("clockTolerance admits a token that expired within it", async () => {
    const s = await start({ secret: SECRET, clockTolerance: 120 });
    await connect(s, { auth: { token: await sign({}, { expiresIn: -60 }) } });
  });

  test("issuer and audience are checked: a wrong one is AUTH_INVALID", async () => {
    const s = await start({ secret: SECRET, issuer: "https://auth.example", audience: "chat" });
    await connect(s, { auth: { token: await sign({ iss: "https://auth.example", aud: "chat" }) } });
    for (const claims of [
      { iss: "https://evil.example", aud: "chat" },
      { iss: "https://auth.example", aud: "mail" },
      {},
    ]) {
      const err = await refusal(s.client("/", { auth: { token: await sign(claims) } }));
      assert.equal(err.data?.code, "AUTH_INVALID", JSON.stringify(claims));
    }
  });

  test("requiredClaims: a token without exp is refused when exp is required", async () => {
    const s = await start({ secret: SECRET, requiredClaims: ["exp"] });
    const err = await refusal(s.client("/", { auth: { token: await sign({}, { expiresIn: null }) } }));
    assert.equal(err.data?.code, "AUTH_INVALID");
  });

  test("a wrong algorithm is AUTH_INVALID: HS512 when HS256 is expected, an RS256 token against a secret", async () => {
    const s = await start({ secret: SECRET });
    const hs512 = await sign({}, { alg: "HS512" });
    assert.equal((await refusal(s.client("/", { auth: { token: hs512 } }))).data?.code, "AUTH_INVALID");
    const { privateKey } = await generateKeyPair("RS256");
    const rs256 = await sign({}, { alg: "RS256", key: privateKey });
    assert.equal((await refusal(s.client("/", { auth: { token: rs256 } }))).data?.code, "AUTH_INVALID");
    // an unsecured token ("alg": "none") never passes
    const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from('{"sub":"ada"}').toString("base64url")}.`;
    assert.equal((await refusal(s.client("/", { auth: { token: none } }))).data?.code, "AUTH_INVALID");
  });

  test("the token from the Authorization header (Bearer), over polling and WebSocket", async () => {
    const s = await start({ secret: SECRET, from: ["header"] });
    const token = await sign();
    for (const mode of ["polling", "websocket"] as const) {
      const { server } = await connect(s, { extraHeaders: { Authorization: `Bearer ${token}` } }, mode);
      assert.equal(claimsOf(server).sub, "ada");
    }
    // the auth payload is not a source here
    const err = await refusal(s.client("/", { auth: { token } }));
    assert.equal(err.data?.code, "AUTH_REQUIRED");
  });

  test("the token from a cookie, and sources tried in order", async () => {
    const s = await start({ secret: SECRET, from: ["auth", "cookie"], cookie: "session" });
    const fromCookie = await sign({ via: "cookie" });
    const fromAuth = await sign({ via: "auth" });
    const a = await connect(s, { extraHeaders: { cookie: `theme=dark; session=${fromCookie}` } }, "polling");
    assert.equal(claimsOf(a.server).via, "cookie");
    const b = await connect(s, { auth: { token: fromAuth }, extraHeaders: { cookie: `session=${fromCookie}` } });
    assert.equal(claimsOf(b.server).via, "auth");
  });

  test("a custom token reader and claimsKey", async () => {
    const s = await start({
      secret: SECRET,
      token: (handshake) => {
        const value = handshake.query.access_token;
        return typeof value === "string" ? value : undefined;
      },
      claimsKey: "user",
    });
    const { server } = await connect(s, { query: { access_token: await sign() } });
    assert.equal((server.data as { user: JWTPayload }).user.sub, "ada");
  });

  test("a custom token reader that throws: AUTH_INVALID with the generic message, never the app's text", async () => {
    const s = await start({
      secret: SECRET,
      token: () => {
        throw new Error("db password is hunter2");
      },
    });
    const err = await refusal(s.client("/", { auth: { token: await sign() } }));
    assert.equal(err.message, "Invalid token");
    assert.deepEqual(err.data, { code: "AUTH_INVALID" });
    assert.equal(s.sockets.length, 0);
  });

  test("RS256 with a PEM public key, ES256 with a CryptoKey", async () => {
    const rsa = await generateKeyPair("RS256");
    const s = await start({ publicKey: await exportSPKI(rsa.publicKey), algorithms: ["RS256"] });
    const { server } = await connect(s, { auth: { token: await sign({}, { alg: "RS256", key: rsa.privateKey }) } });
    assert.equal(claimsOf(server).sub, "ada");
    // an HS256 token signed with the public key's PEM as secret (the classic confusion) is refused
    const pem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    const confused = await sign({}, { alg: "HS256", key: pem });
    assert.equal((await refusal(s.client("/", { auth: { token: confused } }))).data?.code, "AUTH_INVALID");

    const ec = await generateKeyPair("ES256");
    const s2 = await start({ publicKey: ec.publicKey });
    await connect(s2, { auth: { token: await sign({}, { alg: "ES256", key: ec.privateKey }) } });
    const other = await generateKeyPair("ES256");
    const forged = await sign({}, { alg: "ES256", key: other.privateKey });
    assert.equal((await refusal(s2.client("/", { auth: { token: forged } }))).data?.code, "AUTH_INVALID");
  });

  test("a JWKS served over HTTP: keys by kid; an unknown kid is AUTH_INVALID", async () => {
    const { publicKey, privateKey } = await generateKeyPair("ES256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
    const jwks = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    const s = await start({ jwksUrl: `${jwks.url}/.well-known/jwks.json`, algorithms: ["ES256"] });
    const { server } = await connect(s, {
      auth: { token: await sign({}, { alg: "ES256", key: privateKey, kid: "k1" }) },
    });
    assert.equal(claimsOf(server).sub, "ada");
    const unknown = await sign({}, { alg: "ES256", key: privateKey, kid: "k2" });
    assert.equal((await refusal(s.client("/", { auth: { token: unknown } }))).data?.code, "AUTH_INVALID");
    assert.ok(jwks.requests() >= 1);
  });

  test("a JWKS endpoint that fails: AUTH_UNAVAILABLE (the client may retry later)", async () => {
    const jwks = await serve((_req, res) => {
      res.writeHead(500);
      res.end();
    });
    const s = await start({ jwksUrl: jwks.url });
    const { privateKey } = await generateKeyPair("ES256");
    const err = await refusal(
      s.client("/", { auth: { token: await sign({}, { alg: "ES256", key: privateKey, kid: "k1" }) } }),
    );
    assert.equal(err.message, "Token verification unavailable");
    assert.deepEqual(err.data, { code: "AUTH_UNAVAILABLE" });
  });

  test("a guard on one namespace leaves the others alone", async () => {
    const s = await startIo();
    cleanups.push(() => s.close());
    s.io.of("/secure").use(jwt({ secret: SECRET }));
    s.io.of("/public");
    const err = await refusal(s.client("/secure"));
    assert.equal(err.data?.code, "AUTH_REQUIRED");
    await connected(s.client("/public"));
    await connected(s.client("/secure", { auth: { token: await sign() } }));
  });

  test("invalid options throw a TuttiError INVALID_OPTION", () => {
    const invalid = (options: JwtOptions): void =>
      assert.throws(
        () => jwt(options),
        (err: unknown) => err instanceof TuttiError && err.code === "INVALID_OPTION",
      );
    invalid({});
    invalid({ secret: "short" });
    invalid({ secret: SECRET, jwksUrl: "http://127.0.0.1/jwks" });
    invalid({ secret: SECRET, refreshWarning: -1 });
    invalid({ secret: SECRET, refreshRate: { burst: 0, perSecond: 1 } });
    invalid({ secret: SECRET, from: ["query" as "auth"] });
    invalid({ secret: SECRET, clockTolerance: -1 });
    invalid({ secret: SECRET, maxTokenLength: 0 });
  });
});

describe("jwt: expiry and refresh", () => {
  /**
   * A server on a fake clock that stands at a whole second, so a token's `exp` (whole seconds)
   * falls exactly `expiresIn` s ahead; the clock moves only when the test says, to the
   * millisecond. Tokens are signed as of the clock (`at`).
   */
  async function startShortLived(
    options: Partial<JwtOptions> = {},
    clock = new FakeClock({ date: Date.UTC(2030, 0, 1) }),
  ) {
    const s = await start({ secret: SECRET, refreshWarning: 1500, ...options }, "websocket", clock);
    const reasons: string[] = [];
    const appRefreshes: unknown[] = [];
    s.io.on("connection", (socket) => {
      socket.on("disconnect", (reason) => reasons.push(reason));
      // the guard consumes tutti:refresh: this app handler must never run
      socket.on(GuardEvents.REFRESH, (...args: unknown[]) => appRefreshes.push(args));
    });
    const at = (opts: SignOptions = {}): SignOptions => ({ ...opts, now: clock.date() });
    return { s, clock, at, reasons, appRefreshes };
  }

  /** A round trip: whatever the server wrote to `client` before it answered has arrived. */
  async function roundTrip(client: ClientSocket): Promise<unknown> {
    return client.timeout(5000).emitWithAck("ping");
  }

  test("at exp the client gets tutti:token-expiring, then tutti:disconnect AUTH_EXPIRED, and 'io server disconnect'", async () => {
    const { s, clock, at, reasons } = await startShortLived();
    const token = await sign({}, at({ expiresIn: 2 }));
    const { client } = await connect(s, { auth: { token } });
    const events: string[] = [];
    client.on(GuardEvents.TOKEN_EXPIRING, () => events.push("expiring"));
    const expiring = next<[{ exp: number; expiresInMs: number }]>(client, GuardEvents.TOKEN_EXPIRING);
    const told = next<[{ code: string; message: string }]>(client, GuardEvents.DISCONNECT);
    const gone = next<[string]>(client, "disconnect");

    clock.advance(499); // the warning is due refreshWarning (1500 ms) before exp
    assert.equal(await roundTrip(client), "pong");
    assert.deepEqual(events, []);
    clock.advance(1);
    const [warning] = await expiring;
    assert.equal(warning.exp * 1000, clock.date() + 1500);
    assert.equal(warning.expiresInMs, 1500);

    clock.advance(1499);
    assert.equal(await roundTrip(client), "pong");
    assert.ok(client.connected);
    assert.deepEqual(reasons, []);
    clock.advance(1); // exp
    assert.deepEqual((await told)[0], { code: "AUTH_EXPIRED", message: "Token expired" });
    assert.equal((await gone)[0], "io server disconnect");
    assert.deepEqual(reasons, ["token expired"]);
    assert.deepEqual(events, ["expiring"]);
  });

  test("jose checks exp against the server's clock: a token expired by the real clock but not by the server's connects", async () => {
    const clock = new FakeClock({ date: Date.now() - 86_400_000 });
    const s = await start({ secret: SECRET, refreshWarning: false }, "websocket", clock);
    const reasons: string[] = [];
    s.io.on("connection", (socket) => socket.on("disconnect", (reason) => reasons.push(reason)));
    // a day in the real past, 10 s in the server's future
    const { client } = await connect(s, { auth: { token: await sign({}, { expiresIn: 10, now: clock.date() }) } });
    const gone = next<[string]>(client, "disconnect");
    assert.equal(await roundTrip(client), "pong");
    clock.advance(9000); // within a second of exp (whole seconds): still there
    assert.equal(await roundTrip(client), "pong");
    assert.deepEqual(reasons, []);
    clock.advance(1000);
    assert.equal((await gone)[0], "io server disconnect");
    assert.deepEqual(reasons, ["token expired"]);
  });

  test("a refresh before exp keeps the socket past the original exp; the app never sees tutti:refresh", async () => {
    const { s, clock, at, reasons, appRefreshes } = await startShortLived();
    const original = await sign({ role: "reader" }, at({ expiresIn: 2 }));
    const { client, server } = await connect(s, { auth: { token: original } });
    // a control client with the same token and no refresh: its expiry marks the original exp
    const control = (await connect(s, { auth: { token: original } })).client;
    const controlGone = next<[string]>(control, "disconnect");
    const gone: string[] = [];
    client.on("disconnect", (reason) => gone.push(reason));

    const fresh = await sign({ role: "writer" }, at({ expiresIn: 3600 }));
    const result = await client.timeout(5000).emitWithAck(GuardEvents.REFRESH, { token: fresh });
    assert.equal(result.ok, true);
    assert.equal(typeof result.exp, "number");
    assert.equal(claimsOf(server).role, "writer");

    clock.advance(2000); // the original exp
    assert.equal((await controlGone)[0], "io server disconnect");
    // the refreshed socket's timer would have fired with the control's: it is still there
    assert.equal(await roundTrip(client), "pong");
    assert.ok(client.connected);
    assert.deepEqual(gone, []);
    assert.deepEqual(reasons, ["token expired"]); // the control's only
    assert.deepEqual(appRefreshes, []);
  });

  test("a refresh with the token as a plain string, and without an ack, is applied too", async () => {
    const { s, at } = await startShortLived();
    const { client, server } = await connect(s, { auth: { token: await sign({ n: 1 }, at()) } });
    const r = await client.timeout(5000).emitWithAck(GuardEvents.REFRESH, await sign({ n: 2 }, at()));
    assert.equal(r.ok, true);
    client.emit(GuardEvents.REFRESH, { token: await sign({ n: 3 }, at()) });
    assert.equal(await client.timeout(5000).emitWithAck("ping"), "pong");
    // refreshes are verified asynchronously: wait until the last one lands
    for (let i = 0; i < 200 && claimsOf(server).n !== 3; i++) await new Promise((r2) => setTimeout(r2, 10));
    assert.equal(claimsOf(server).n, 3);
  });

  test("a failed refresh is acked with its code and changes nothing: the old token still expires", async () => {
    const { s, clock, at, reasons, appRefreshes } = await startShortLived({ refreshWarning: false });
    const { client, server } = await connect(s, {
      auth: { token: await sign({ role: "reader" }, at({ expiresIn: 2 })) },
    });
    const errors: GuardError[] = [];
    server.on("error", (err) => errors.push(err as GuardError));
    const told = next<[{ code: string }]>(client, GuardEvents.DISCONNECT);
    const gone = next<[string]>(client, "disconnect");

    const attempts: Array<[unknown, string, string?]> = [
      ["not.a.token", "AUTH_INVALID"],
      [await sign({}, at({ key: OTHER_SECRET })), "AUTH_INVALID"],
      [await sign({}, at({ expiresIn: -60 })), "AUTH_EXPIRED"],
      [await sign({ sub: "mallory" }, at()), "AUTH_INVALID", "Token subject does not match"],
      [{}, "AUTH_REQUIRED"],
    ];
    for (const [token, code, message] of attempts) {
      const result = await client.timeout(5000).emitWithAck(GuardEvents.REFRESH, token);
      assert.equal(result.code, code, JSON.stringify(token));
      if (message !== undefined) assert.equal(result.message, message);
      assert.equal(result.ok, undefined);
    }
    assert.equal(claimsOf(server).role, "reader");
    assert.deepEqual(
      errors.map((e) => e.code),
      attempts.map((a) => a[1]),
    );
    assert.ok(errors.every((e) => e instanceof GuardError));

    clock.advance(1999);
    assert.equal(await roundTrip(client), "pong");
    clock.advance(1); // the old token's exp
    assert.deepEqual((await told)[0], { code: "AUTH_EXPIRED", message: "Token expired" });
    assert.equal((await gone)[0], "io server disconnect");
    assert.deepEqual(reasons, ["token expired"]);
    assert.deepEqual(appRefreshes, []);
  });

  /**
   * A JWKS server whose first answer is immediate and whose later ones wait for `release`: a
   * refresh signed with a new kid makes jose fetch again, and stays in flight until then
   * (`fetching` resolves once that fetch has arrived).
   */
  async function gatedJwks(at: () => SignOptions) {
    const { publicKey, privateKey } = await generateKeyPair("ES256");
    const jwk = (kid: string) => exportJWK(publicKey).then((key) => ({ ...key, kid, alg: "ES256" }));
    const keys = [await jwk("k1"), await jwk("k2")];
    let release: (status: number) => void = () => {};
    const gate = new Promise<number>((resolve) => {
      release = resolve;
    });
    let arrived: () => void = () => {};
    const fetching = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const jwks = await serve((_req, res) => {
      const first = jwks === undefined || jwks.requests() === 1;
      const answer = (status: number): void => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(status === 200 ? JSON.stringify({ keys: first ? [keys[0]] : keys }) : "");
      };
      if (first) answer(200);
      else {
        arrived();
        void gate.then(answer);
      }
    });
    const signWith = (kid: string, expiresIn: number) =>
      sign({}, { ...at(), alg: "ES256", key: privateKey, kid, expiresIn });
    return { url: jwks.url, release, fetching, signWith };
  }

  /** A JWKS-verified server on a fake clock, a client and a control with a token that expires in 2 s. */
  async function startGated(options: Partial<JwtOptions> = {}) {
    const clock = new FakeClock({ date: Date.UTC(2030, 0, 1) });
    const jwks = await gatedJwks(() => ({ now: clock.date() }));
    const jwksOptions = { cooldownDuration: 0, timeoutDuration: 30_000 };
    const app = await startShortLived(
      { secret: undefined, jwksUrl: jwks.url, jwksOptions, refreshWarning: false, ...options },
      clock,
    );
    const original = await jwks.signWith("k1", 2);
    const { client, server } = await connect(app.s, { auth: { token: original } });
    // a control client with the same token and no refresh: its expiry marks the original exp
    const control = (await connect(app.s, { auth: { token: original } })).client;
    const controlGone = next<[string]>(control, "disconnect");
    return { ...app, jwks, client, server, controlGone };
  }

  test("a refresh still being verified at exp is waited for, then applied; meanwhile events are refused", async () => {
    const { clock, jwks, reasons, client, server, controlGone } = await startGated();
    const gone: string[] = [];
    client.on("disconnect", (reason) => gone.push(reason));

    const refreshed = client.timeout(40_000).emitWithAck(GuardEvents.REFRESH, await jwks.signWith("k2", 3600));
    await jwks.fetching;
    clock.advance(2000); // exp, with the refresh in flight
    assert.equal((await controlGone)[0], "io server disconnect");
    // the socket stays, but its events are refused
    assert.deepEqual(await roundTrip(client), { code: "AUTH_EXPIRED", message: "Token expired" });
    assert.ok(client.connected);

    jwks.release(200);
    const result = await refreshed;
    assert.equal(result.ok, true);
    assert.equal(claimsOf(server).exp, result.exp);
    assert.equal(await roundTrip(client), "pong");
    assert.ok(client.connected);
    assert.deepEqual(gone, []);
    assert.deepEqual(reasons, ["token expired"]); // the control's only
  });

  test("a refresh in flight at exp that then fails: its ack gets the refusal, then the socket is disconnected", async () => {
    const { clock, jwks, reasons, client, controlGone } = await startGated();
    const events: string[] = [];
    client.on(GuardEvents.DISCONNECT, ({ code }: { code: string }) => events.push(`tutti:disconnect ${code}`));
    const gone = next<[string]>(client, "disconnect");

    const fresh = await jwks.signWith("k2", 3600);
    // a callback, not a promise: it runs as the ack arrives, in order with the other events
    const refreshed = new Promise<void>((resolve) => {
      client.timeout(40_000).emit(GuardEvents.REFRESH, fresh, (err: Error | null, result?: { code: string }) => {
        events.push(err === null ? `ack ${result?.code}` : `ack error ${err.message}`);
        resolve();
      });
    });
    await jwks.fetching;
    clock.advance(2000);
    await controlGone;
    assert.equal(((await roundTrip(client)) as { code: string }).code, "AUTH_EXPIRED");

    jwks.release(500); // the key set cannot be fetched: AUTH_UNAVAILABLE
    await refreshed;
    assert.equal((await gone)[0], "io server disconnect");
    assert.deepEqual(events, ["ack AUTH_UNAVAILABLE", "tutti:disconnect AUTH_EXPIRED"]);
    assert.deepEqual(reasons, ["token expired", "token expired"]);
  });

  test("a refresh still in flight when the wait (jwksOptions.timeoutDuration) runs out: the socket is disconnected", async () => {
    const { clock, jwks, reasons, client, controlGone } = await startGated({
      jwksOptions: { cooldownDuration: 0, timeoutDuration: 10_000 },
    });
    const told = next<[{ code: string }]>(client, GuardEvents.DISCONNECT);
    const gone = next<[string]>(client, "disconnect");
    client.emit(GuardEvents.REFRESH, await jwks.signWith("k2", 3600));
    await jwks.fetching;
    clock.advance(2000);
    await controlGone;
    clock.advance(9999);
    assert.equal(((await roundTrip(client)) as { code: string }).code, "AUTH_EXPIRED");
    assert.ok(client.connected);
    clock.advance(1);
    assert.equal((await told)[0].code, "AUTH_EXPIRED");
    assert.equal((await gone)[0], "io server disconnect");
    assert.deepEqual(reasons, ["token expired", "token expired"]);
  });

  test("refreshes are rate-limited per socket (refreshRate), on the server's clock", async () => {
    const { s, clock, at } = await startShortLived({ refreshRate: { burst: 2, perSecond: 1 } });
    const { client } = await connect(s, { auth: { token: await sign({}, at()) } });
    const fresh = await sign({}, at());
    assert.equal((await client.timeout(5000).emitWithAck(GuardEvents.REFRESH, fresh)).ok, true);
    assert.equal((await client.timeout(5000).emitWithAck(GuardEvents.REFRESH, fresh)).ok, true);
    const third = await client.timeout(5000).emitWithAck(GuardEvents.REFRESH, fresh);
    assert.equal(third.code, "RATE_LIMITED");
    assert.equal(third.retryAfterMs, 1000);
    clock.advance(1000);
    assert.equal((await client.timeout(5000).emitWithAck(GuardEvents.REFRESH, fresh)).ok, true);
  });

  test("on a dynamic namespace's children too: claims, expiry, reason", async () => {
    const clock = new FakeClock({ date: Date.UTC(2030, 0, 1) });
    const s = await startIo({ clock });
    cleanups.push(() => s.close());
    const parent = s.io.of(/^\/team-\d+$/);
    parent.use(jwt({ secret: SECRET, refreshWarning: false }));
    const reasons: string[] = [];
    const subs: unknown[] = [];
    parent.on("connection", (socket) => {
      subs.push((socket.data as { claims: JWTPayload }).claims.sub);
      socket.on("disconnect", (reason) => reasons.push(reason));
    });
    const refused = await refusal(s.client("/team-1"));
    assert.equal(refused.data?.code, "AUTH_REQUIRED");
    const client = s.client("/team-2", { auth: { token: await sign({}, { expiresIn: 2, now: clock.date() }) } });
    const told = next<[{ code: string }]>(client, GuardEvents.DISCONNECT);
    const gone = next<[string]>(client, "disconnect");
    await connected(client);
    clock.advance(2000);
    assert.equal((await told)[0].code, "AUTH_EXPIRED");
    assert.equal((await gone)[0], "io server disconnect");
    assert.deepEqual(subs, ["ada"]);
    assert.deepEqual(reasons, ["token expired"]);
  });

  test("refresh: false lets tutti:refresh through to the app", async () => {
    const s = await start({ secret: SECRET, refresh: false });
    s.io.on("connection", (socket) =>
      socket.on(GuardEvents.REFRESH, (_t: unknown, ack: (v: string) => void) => ack("app")),
    );
    const { client } = await connect(s, { auth: { token: await sign() } });
    assert.equal(await client.timeout(5000).emitWithAck(GuardEvents.REFRESH, "x"), "app");
  });

  test("a token without exp never expires the socket", async () => {
    const s = await start({ secret: SECRET });
    const { client, server } = await connect(s, { auth: { token: await sign({}, { expiresIn: null }) } });
    assert.equal(claimsOf(server).exp, undefined);
    assert.equal(await client.timeout(5000).emitWithAck("ping"), "pong");
  });
});

/** A loopback HTTP server for the JWKS tests, closed after the test. */
async function serve(
  handler: (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => void,
): Promise<{ url: string; requests(): number }> {
  let count = 0;
  const server: HttpServer = createServer((req, res) => {
    count++;
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => count };
}
