import { deserialize, serialize } from "node:v8";

/**
 * Marks Tutti's messages on a node:cluster IPC channel, which the app may use too: a message
 * without it is the app's and is left alone. The suffix is the IPC protocol's version.
 */
export const IPC_TAG = "tutti-cores/1";

/** One message between the primary and a worker: `k` names its kind, the rest is plain data. */
export interface IpcBody {
  readonly k: string;
  readonly [field: string]: unknown;
}

/** How a body travels: as it is (`serialization: "advanced"`) or v8-serialized in base64 (JSON channels). */
interface Envelope {
  readonly tutti: typeof IPC_TAG;
  readonly m?: IpcBody;
  readonly b?: string;
}

/**
 * Wraps `body` for the channel. A JSON channel would turn a Buffer into `{type, data}` and drop
 * `undefined`, so there the body goes v8-serialized: binary comes back as binary either way.
 */
export function encode(body: IpcBody, advanced: boolean): Envelope {
  return advanced ? { tutti: IPC_TAG, m: body } : { tutti: IPC_TAG, b: serialize(body).toString("base64") };
}

/** The body of one of Tutti's messages; undefined for anything else (the app's own messages). */
export function decode(message: unknown): IpcBody | undefined {
  if (message === null || typeof message !== "object") return undefined;
  const envelope = message as Partial<Envelope>;
  if (envelope.tutti !== IPC_TAG) return undefined;
  const body =
    typeof envelope.b === "string" ? (deserialize(Buffer.from(envelope.b, "base64")) as unknown) : envelope.m;
  if (body === null || typeof body !== "object" || typeof (body as IpcBody).k !== "string") return undefined;
  return body as IpcBody;
}

/** Message kinds. Worker → primary first, then primary → worker. */
export const K = {
  /** `{tag, version, address?, links: [nsp, [room, count][]][]}`: join, or join again after a gap. */
  hello: "hello",
  ping: "ping",
  /** `{n}` / `{n}`: a namespace's feed opens / closes. */
  link: "link",
  unlink: "unlink",
  /** `{id, n, m}` → `ok {id, p}` | `err {id, e}` */
  publish: "pub",
  /** `{n, m, r?}`: to every other node of the namespace, or of room `r`. */
  broadcast: "bc",
  /** `{n, m, to}` */
  sendTo: "to",
  /** `{id, n, rooms}` → `ok {id}`; `unsub {n, rooms}` */
  subscribe: "sub",
  unsubscribe: "unsub",
  /** `{a}` */
  address: "addr",
  /** `{id, tag}` → `ok {id, node?}` */
  locate: "loc",
  bye: "bye",

  /** `{members, secret, advanced}` */
  welcome: "welcome",
  pong: "pong",
  ok: "ok",
  err: "err",
  /** `{n, e}` a stored message of a namespace's feed; `{n, m, f}` an ephemeral one from node `f`. */
  entry: "entry",
  message: "msg",
  /** `{node}` a node joined or announced its address; `{tag}` a node left. */
  up: "up",
  down: "down",
  /** The worker was declared dead (no heartbeat within the timeout): it must say hello again. */
  evicted: "evicted",
} as const;
