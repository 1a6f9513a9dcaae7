import { tagOf } from "./session-id.js";

/**
 * Where an engine request goes, decided once per request or upgrade:
 * - "handshake": no sid, a new session opens here;
 * - "local": the sid is one of this node's open sessions;
 * - "relay": the sid names another node (`tag`), which the request is piped to;
 * - "unknown": the sid is nobody's that this node can name; the protocol's checks answer it
 *   (the 400 "Session ID unknown", code 1, unless an earlier check refuses it first).
 */
export type Route =
  | { readonly kind: "handshake" }
  | { readonly kind: "local"; readonly sid: string }
  | { readonly kind: "relay"; readonly sid: string; readonly tag: string }
  | { readonly kind: "unknown"; readonly sid: string };

const HANDSHAKE: Route = Object.freeze({ kind: "handshake" });

/**
 * Routes a request by its sid. `ownTag` is undefined outside a cluster, so nothing is relayed
 * there; `relayed` is true for a request another node relayed here, which is never relayed
 * again (an unknown sid on its owner gets the 400, whatever its tag says).
 */
export function route(
  sid: string | undefined,
  isLocal: (sid: string) => boolean,
  ownTag: string | undefined,
  relayed: boolean,
): Route {
  if (sid === undefined) return HANDSHAKE;
  if (isLocal(sid)) return { kind: "local", sid };
  if (ownTag === undefined || relayed) return { kind: "unknown", sid };
  const tag = tagOf(sid);
  if (tag === undefined || tag === ownTag) return { kind: "unknown", sid };
  return { kind: "relay", sid, tag };
}
