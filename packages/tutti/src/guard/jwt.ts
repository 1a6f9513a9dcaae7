import { createPublicKey } from "node:crypto";
import { type Clock, type ClockTimer, MAX_TIMER_DELAY, unrefTimer } from "../clock.js";
import { DisconnectReasons, type GuardCode } from "../errors.js";
import type { Event } from "../server/index.js";
import {
  type AnySocket,
  ackOf,
  asSocket,
  claimsChanged,
  clockOf,
  type Guard,
  GuardEvents,
  guardDisconnect,
  invalidOption,
  type RefreshAccepted,
  refuseEvent,
  strike,
  writeData,
} from "./guard.js";
import { GuardError, GuardMessages, type GuardRefusal } from "./guard-error.js";
// jose is ESM-only: its code is loaded on first use by import(), which the CommonJS build keeps
// (a require() of it fails on Node before 20.19), so requiring "tutti" never loads it.
import type {
  CryptoKey,
  Jose,
  JWK,
  JWSAlgorithm,
  JWTPayload,
  JWTVerifyGetKey,
  JWTVerifyOptions,
  KeyObject,
  RemoteJWKSetOptions,
} from "./jose-types.js";
import { type BucketOptions, checkBucketOptions, TokenBucket } from "./token-bucket.js";
import { type TokenSourceOptions, tokenReader } from "./token-source.js";

export interface JwtOptions extends TokenSourceOptions {
  /** An HMAC secret (HS256 by default). At least 32 bytes: RFC 7518 §3.2 requires a key as long as the hash. */
  secret?: string | Uint8Array;
  /** A public key: a PEM string (SPKI or X.509 certificate), a JWK, a KeyObject or a CryptoKey. */
  publicKey?: string | JWK | KeyObject | CryptoKey;
  /** A JWKS URL, fetched and cached by jose's `createRemoteJWKSet` (`jwksOptions` are passed on). */
  jwksUrl?: string | URL;
  jwksOptions?: RemoteJWKSetOptions;
  /**
   * The accepted `alg` values. Default `["HS256"]` with `secret`; with `publicKey` or `jwksUrl`,
   * the RSA, RSA-PSS, ECDSA and EdDSA algorithms (never an HMAC one): set the one your issuer uses.
   */
  algorithms?: readonly JWSAlgorithm[];
  /** Required `iss`, one of these. */
  issuer?: string | readonly string[];
  /** Required `aud`, one of these. */
  audience?: string | readonly string[];
  /** Seconds of clock skew allowed on `exp`, `nbf` and `iat`; the expiry disconnect waits as long. Default 0. */
  clockTolerance?: number;
  /** Claims that must be present, e.g. `["exp", "sub"]`. Default none. */
  requiredClaims?: readonly string[];
  /** The oldest `iat` accepted, e.g. "1h" or seconds. Default none. */
  maxTokenAge?: number | string;
  /** The verified claims go to `socket.data[claimsKey]`. Default "claims". */
  claimsKey?: string;
  /** Whether clients may send a fresh token with `tutti:refresh`. Default true. */
  refresh?: boolean;
  /** Each socket's `tutti:refresh` budget. Default `{burst: 5, perSecond: 0.1}`. */
  refreshRate?: BucketOptions;
  /** Milliseconds before `exp` at which `tutti:token-expiring` is emitted; false for never. Default 30000. */
  refreshWarning?: number | false;
  /** Longer tokens are refused without being parsed. Default 8192. */
  maxTokenLength?: number;
}

export const JWT_DEFAULTS = {
  claimsKey: "claims",
  refreshRate: { burst: 5, perSecond: 0.1 },
  refreshWarning: 30_000,
  maxTokenLength: 8192,
} as const;

const ASYMMETRIC: readonly JWSAlgorithm[] = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
];

/**
 * How long the expiry waits for a refresh still being verified, unless `jwksOptions.timeoutDuration`
 * says otherwise (it is jose's default for that option: a JWKS fetch gives up by then).
 */
const REFRESH_GRACE_MS = 5000;

/** Verifies a token as of `currentDate` (the server clock's date, so a fake clock decides expiry). */
type Verify = (token: string, currentDate: Date) => Promise<JWTPayload>;
type JoseErrors = Jose["errors"];

/** jose, loaded on first use: import() is kept by the CommonJS build (jose is ESM-only), and Node caches the module. */
function loadJose(): Promise<Jose> {
  return import("jose");
}

/**
 * Authenticates sockets with a JWT (verified by `jose`): a socket without a valid token is
 * refused with CONNECT_ERROR `{message, data: {code}}` (AUTH_REQUIRED, AUTH_INVALID,
 * AUTH_EXPIRED, AUTH_UNAVAILABLE); an admitted one has its claims in `socket.data.claims`. At
 * `exp` the socket gets `tutti:disconnect` `{code: "AUTH_EXPIRED"}` and is disconnected with
 * reason "token expired", unless its client sent a fresh token first (`tutti:refresh`, see
 * docs/guards.md). A refresh still being verified at `exp` is waited for (at most the JWKS
 * timeout, 5 s by default; meanwhile other events are refused with AUTH_EXPIRED), then applied
 * or the socket disconnected. A refresh that replaces the claims runs `authorize`'s checks
 * again. Its timers (one at a time per socket) are unref'd and cleared on disconnect.
 */
export function jwt(options: JwtOptions): Guard {
  const { verify, remote } = createVerify(options);
  const readToken = tokenReader(options);
  const claimsKey = options.claimsKey ?? JWT_DEFAULTS.claimsKey;
  const refresh = options.refresh ?? true;
  const refreshRate = options.refreshRate ?? JWT_DEFAULTS.refreshRate;
  checkBucketOptions("jwt.refreshRate", refreshRate);
  const warning = options.refreshWarning ?? JWT_DEFAULTS.refreshWarning;
  if (warning !== false && !(Number.isFinite(warning) && warning >= 0)) {
    throw invalidOption("jwt", "refreshWarning must be a number of milliseconds >= 0, or false");
  }
  const maxLength = options.maxTokenLength ?? JWT_DEFAULTS.maxTokenLength;
  if (!Number.isSafeInteger(maxLength) || maxLength < 1)
    throw invalidOption("jwt", "maxTokenLength must be a positive integer");
  const tolerance = options.clockTolerance ?? 0;
  if (!(Number.isFinite(tolerance) && tolerance >= 0))
    throw invalidOption("jwt", "clockTolerance must be seconds >= 0");
  const toleranceMs = tolerance * 1000;
  const timeoutDuration = options.jwksOptions?.timeoutDuration;
  const graceMs =
    typeof timeoutDuration === "number" && Number.isFinite(timeoutDuration) && timeoutDuration >= 0
      ? Math.min(timeoutDuration, MAX_TIMER_DELAY)
      : REFRESH_GRACE_MS;

  // Sockets admitted but not yet connected: their timers start at "connection", so a socket that
  // a later middleware refuses never has one. One "connection" listener per namespace.
  const admitted = new WeakMap<AnySocket, TokenSession>();
  const watched = new WeakSet<object>();
  const onConnection = (socket: AnySocket): void => {
    const session = admitted.get(socket);
    if (session === undefined) return;
    admitted.delete(socket);
    session.start();
  };

  const check = async (token: string | undefined, clock: Clock): Promise<JWTPayload> => {
    if (token === undefined) throw GuardError.of("AUTH_REQUIRED");
    if (token.length > maxLength) throw GuardError.of("AUTH_INVALID", "Token too long");
    try {
      return await verify(token, new Date(clock.date()));
    } catch (err) {
      throw GuardError.of(classify(err, remote, (await loadJose()).errors), undefined, { cause: err });
    }
  };

  return (typed, next) => {
    const socket = asSocket(typed);
    const clock = clockOf(socket);
    let token: string | undefined;
    try {
      token = readToken(socket.handshake);
    } catch (err) {
      // an app's token reader that throws: its text must not reach the client
      next(err instanceof GuardError ? err : GuardError.of("AUTH_INVALID", undefined, { cause: err }));
      return;
    }
    check(token, clock)
      .then((claims) => {
        writeData(socket, claimsKey, claims);
        const session = new TokenSession(socket, clock, claims, claimsKey, warning, toleranceMs, graceMs);
        if (refresh) {
          let bucket: TokenBucket | undefined;
          socket.use((event, nextEvent) => {
            if (event[0] !== GuardEvents.REFRESH) {
              // the token expired and a refresh is still being verified: nothing else goes through
              if (session.expired) {
                refuseEvent(socket, event, nextEvent, { code: "AUTH_EXPIRED", message: GuardMessages.AUTH_EXPIRED });
                return;
              }
              return nextEvent();
            }
            bucket ??= new TokenBucket(refreshRate, () => clock.now());
            if (!bucket.tryTake()) {
              refuseEvent(socket, event, nextEvent, {
                code: "RATE_LIMITED",
                message: GuardMessages.RATE_LIMITED,
                retryAfterMs: bucket.msUntil(),
              });
              strike(socket); // counts toward rateLimit's disconnect, when it guards the socket
              return;
            }
            session.refresh(event, nextEvent, (fresh) => check(fresh, clock));
          });
        }
        admitted.set(socket, session);
        if (!watched.has(socket.nsp)) {
          watched.add(socket.nsp);
          socket.nsp.on("connection", onConnection);
        }
        next();
      }, next)
      // a bug above must not become an unhandled rejection: refuse the socket instead
      .catch((err: unknown) => next(err instanceof Error ? err : new Error(String(err))));
  };
}

/** One socket's token: its expiry timer and its refreshes. */
class TokenSession {
  readonly #socket: AnySocket;
  readonly #clock: Clock;
  #claims: JWTPayload;
  readonly #claimsKey: string;
  readonly #warning: number | false;
  readonly #toleranceMs: number;
  readonly #graceMs: number;
  /** The warning or expiry timer. */
  #timer: ClockTimer | undefined;
  /** Set while the token has expired and a refresh is still being verified: its deadline. */
  #grace: ClockTimer | undefined;
  #warned = false;
  /** Refreshes started, and the latest one applied: a slow verification never undoes a newer one. */
  #started = 0;
  #applied = 0;
  /** Refreshes being verified. */
  #pending = 0;

  constructor(
    socket: AnySocket,
    clock: Clock,
    claims: JWTPayload,
    claimsKey: string,
    warning: number | false,
    toleranceMs: number,
    graceMs: number,
  ) {
    this.#socket = socket;
    this.#clock = clock;
    this.#claims = claims;
    this.#claimsKey = claimsKey;
    this.#warning = warning;
    this.#toleranceMs = toleranceMs;
    this.#graceMs = graceMs;
  }

  /** Whether the token has expired and the socket waits for a refresh in flight. */
  get expired(): boolean {
    return this.#grace !== undefined;
  }

  start(): void {
    if (!this.#socket.connected) return;
    this.#socket.once("disconnect", () => this.#clear());
    this.#arm();
  }

  refresh(event: Event, next: (err?: Error) => void, check: (token: string | undefined) => Promise<JWTPayload>): void {
    const ack = ackOf(event);
    const arg = event[1];
    const token =
      typeof arg === "string"
        ? arg
        : typeof arg === "object" && arg !== null && typeof (arg as { token?: unknown }).token === "string"
          ? (arg as { token: string }).token
          : undefined;
    const generation = ++this.#started;
    this.#pending++;
    check(token === "" ? undefined : token).then(
      (claims) => {
        this.#pending--;
        if (!this.#socket.connected) return;
        if (claims.sub !== this.#claims.sub) {
          refuseEvent(this.#socket, event, next, { code: "AUTH_INVALID", message: "Token subject does not match" });
          this.#settled();
          return;
        }
        const accepted: RefreshAccepted = claims.exp === undefined ? { ok: true } : { ok: true, exp: claims.exp };
        if (generation <= this.#applied) {
          // a newer refresh was applied first: this one changes nothing
          ack?.(accepted);
          this.#settled();
          return;
        }
        this.#applied = generation;
        this.#claims = claims;
        writeData(this.#socket, this.#claimsKey, claims);
        this.#warned = false;
        this.#arm(); // ends a grace, if the token had expired meanwhile
        // authorize re-checks the namespace and the rooms; the ack follows, unless it disconnected
        void claimsChanged(this.#socket).then(() => {
          if (this.#socket.connected) ack?.(accepted);
        });
      },
      (err: GuardError) => {
        this.#pending--;
        if (!this.#socket.connected) return;
        refuseEvent(this.#socket, event, next, err.refusal, err.cause);
        this.#settled();
      },
    );
  }

  /** A refresh settled without being applied: an expired token waits for no more, then disconnects. */
  #settled(): void {
    if (this.#grace !== undefined && this.#pending === 0) this.#expire();
  }

  #clear(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#clock.clearTimeout(this.#grace);
    this.#grace = undefined;
  }

  /** One timer: to the warning if it is still due, else to the expiry. */
  #arm(): void {
    this.#clear();
    const exp = this.#claims.exp;
    if (typeof exp !== "number" || !this.#socket.connected) return;
    const expireAt = exp * 1000 + this.#toleranceMs;
    const warnAt = this.#warning === false || this.#warned ? undefined : exp * 1000 - this.#warning;
    const target = warnAt !== undefined && warnAt < expireAt ? warnAt : expireAt;
    const delay = Math.min(Math.max(target - this.#clock.date(), 0), MAX_TIMER_DELAY);
    this.#timer = this.#clock.setTimeout(() => this.#fire(expireAt, warnAt), delay);
    unrefTimer(this.#timer);
  }

  #fire(expireAt: number, warnAt: number | undefined): void {
    this.#timer = undefined;
    if (!this.#socket.connected) return;
    const now = this.#clock.date();
    if (now >= expireAt) {
      if (this.#pending === 0) {
        this.#expire();
        return;
      }
      // a refresh sent before exp is still being verified: wait for it, but not forever
      this.#grace = this.#clock.setTimeout(() => this.#expire(), this.#graceMs);
      unrefTimer(this.#grace);
      return;
    }
    if (warnAt !== undefined && now >= warnAt && !this.#warned) {
      this.#warned = true;
      const exp = this.#claims.exp as number;
      this.#socket.emit(GuardEvents.TOKEN_EXPIRING, { exp, expiresInMs: Math.max(exp * 1000 - now, 0) });
    }
    this.#arm();
  }

  #expire(): void {
    this.#clear();
    const refusal: GuardRefusal = { code: "AUTH_EXPIRED", message: GuardMessages.AUTH_EXPIRED };
    guardDisconnect(this.#socket, refusal, DisconnectReasons.TOKEN_EXPIRED);
  }
}

function createVerify(options: JwtOptions): { verify: Verify; remote: boolean } {
  const given = [options.secret, options.publicKey, options.jwksUrl].filter((k) => k !== undefined).length;
  if (given !== 1) throw invalidOption("jwt", "give exactly one of secret, publicKey and jwksUrl");
  const claims: JWTVerifyOptions = {
    issuer: options.issuer as string | string[] | undefined,
    audience: options.audience as string | string[] | undefined,
    clockTolerance: options.clockTolerance,
    requiredClaims: options.requiredClaims as string[] | undefined,
    maxTokenAge: options.maxTokenAge,
  };
  if (options.secret !== undefined) {
    const secret = typeof options.secret === "string" ? new TextEncoder().encode(options.secret) : options.secret;
    if (secret.byteLength < 32) throw invalidOption("jwt", "secret must be at least 32 bytes (RFC 7518 §3.2)");
    const verifyOptions = { ...claims, algorithms: [...(options.algorithms ?? ["HS256"])] };
    return {
      verify: async (token, currentDate) =>
        (await (await loadJose()).jwtVerify(token, secret, { ...verifyOptions, currentDate })).payload,
      remote: false,
    };
  }
  const verifyOptions = { ...claims, algorithms: [...(options.algorithms ?? ASYMMETRIC)] };
  if (options.publicKey !== undefined) {
    const key = typeof options.publicKey === "string" ? createPublicKey(options.publicKey) : options.publicKey;
    return {
      verify: async (token, currentDate) =>
        (await (await loadJose()).jwtVerify(token, key, { ...verifyOptions, currentDate })).payload,
      remote: false,
    };
  }
  const url = options.jwksUrl instanceof URL ? options.jwksUrl : new URL(options.jwksUrl as string);
  let jwks: JWTVerifyGetKey | undefined; // one key set (and its cache) per guard, made on first use
  const verify: Verify = async (token, currentDate) => {
    const jose = await loadJose();
    jwks ??= jose.createRemoteJWKSet(url, options.jwksOptions);
    return (await jose.jwtVerify(token, jwks, { ...verifyOptions, currentDate })).payload;
  };
  return { verify, remote: true };
}

/** jose's errors, as the few codes a client can act on; its own text stays on the server (as `cause`). */
function classify(err: unknown, remote: boolean, errors: JoseErrors): GuardCode {
  if (err instanceof errors.JWTExpired) return "AUTH_EXPIRED";
  if (remote) {
    // the key set could not be fetched or read: the token may well be good, so try again later
    const unreachable =
      !(err instanceof errors.JOSEError) ||
      err instanceof errors.JWKSTimeout ||
      err instanceof errors.JWKSInvalid ||
      err.code === "ERR_JOSE_GENERIC";
    if (unreachable) return "AUTH_UNAVAILABLE";
  }
  return "AUTH_INVALID";
}
