import { parseCookie } from "cookie";
import type { Handshake } from "../server/index.js";
import { invalidOption } from "./guard.js";
import { GuardError } from "./guard-error.js";

/** Where the `jwt` guard looks for the token, in the order given. */
export type TokenSource = "auth" | "header" | "cookie";

export interface TokenSourceOptions {
  /** The places to look, first match wins. Default `["auth"]`. */
  from?: readonly TokenSource[];
  /** The field of the client's `auth` payload: `io(url, {auth: {token}})`. Default "token". */
  authField?: string;
  /**
   * The request header (any case): `Authorization: Bearer <token>` by default. Browsers cannot
   * set headers on a WebSocket, so this suits Node clients (`extraHeaders`) and proxies.
   */
  header?: string;
  /** The cookie's name. Default "token". */
  cookie?: string;
  /**
   * Reads the token yourself; replaces `from`. One that throws refuses the socket with
   * AUTH_INVALID "Invalid token" (its error is the `GuardError`'s cause, never sent).
   */
  token?: (handshake: Handshake) => string | undefined;
}

const BEARER = /^bearer\s+/i;

/**
 * A function that finds the token in a handshake, or gives undefined (none found; a value that is
 * not a non-empty string counts as none, and the next source is tried). When reading throws, it
 * throws a `GuardError` AUTH_INVALID with the generic message, the error as its cause.
 */
export function tokenReader(options: TokenSourceOptions): (handshake: Handshake) => string | undefined {
  if (options.token !== undefined) {
    const read = options.token;
    return (handshake) => {
      try {
        return clean(read(handshake));
      } catch (err) {
        throw GuardError.of("AUTH_INVALID", undefined, { cause: err });
      }
    };
  }
  const from = options.from ?? ["auth"];
  const authField = options.authField ?? "token";
  const header = (options.header ?? "authorization").toLowerCase();
  const cookie = options.cookie ?? "token";
  const readers = from.map((source): ((handshake: Handshake) => unknown) => {
    switch (source) {
      case "auth":
        return (handshake) => (Object.hasOwn(handshake.auth, authField) ? handshake.auth[authField] : undefined);
      case "header":
        return (handshake) => handshake.headers[header];
      case "cookie":
        return (handshake) => {
          const raw = handshake.headers.cookie;
          return raw === undefined ? undefined : parseCookie(raw)[cookie];
        };
      default:
        throw invalidOption("jwt", `unknown token source ${JSON.stringify(source)} in "from"`);
    }
  });
  return (handshake) => {
    for (const read of readers) {
      const token = clean(read(handshake));
      if (token !== undefined) return token;
    }
    return undefined;
  };
}

/** A token is a non-empty string; a "Bearer " scheme in front of it is dropped. */
function clean(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const token = value.replace(BEARER, "").trim();
  return token === "" ? undefined : token;
}
