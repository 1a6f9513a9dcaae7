import { randomBytes } from "node:crypto";

/** Characters of a node tag, the prefix of the session ids a node in a cluster opens. */
export const TAG_LENGTH = 6;
/** Characters of a session id: engine.io's own length (15 random bytes in base64url). */
export const SESSION_ID_LENGTH = 20;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** True when `tag` can prefix session ids: 6 base64url characters. */
export function isNodeTag(tag: unknown): tag is string {
  return typeof tag === "string" && tag.length === TAG_LENGTH && BASE64URL.test(tag);
}

/** A session id without a cluster: 15 random bytes, 20 base64url characters, as engine.io's. */
export function randomSessionId(): string {
  return randomBytes(15).toString("base64url");
}

/**
 * A session id owned by the node `tag`: the tag, then 14 random base64url characters (84 bits).
 * Clients treat the sid as opaque; the other nodes read its owner from it (design note C7).
 */
export function clusterSessionId(tag: string): string {
  return (
    tag +
    randomBytes(11)
      .toString("base64url")
      .slice(0, SESSION_ID_LENGTH - TAG_LENGTH)
  );
}

/**
 * The tag of the node that opened `sid`, or undefined when `sid` is not shaped as a cluster id
 * (an app's own `generateId`, or garbage).
 */
export function tagOf(sid: string): string | undefined {
  if (sid.length !== SESSION_ID_LENGTH || !BASE64URL.test(sid)) return undefined;
  return sid.slice(0, TAG_LENGTH);
}
