/**
 * Every Redis key and channel the broker uses (design note C4). `P` is the prefix (`key`
 * option, "tutti" by default; socket.io apps pass "socket.io"), `{N}` the namespace's hash tag:
 * `{` + encodeURIComponent(namespace) + `}`. Encoding keeps `{` and `}` out of the tag, so all
 * of a namespace's keys and channels share one Redis Cluster slot, which lets one Lua script
 * append to several rooms' streams and publish to their channels atomically, and makes one
 * shard's subscriber connection carry the namespace's whole feed in script order.
 */
export class Keys {
  constructor(readonly prefix: string) {}

  /** The namespace's hash tag with the prefix: `P:{N}`. */
  namespace(nsp: string): NamespaceKeys {
    return new NamespaceKeys(`${this.prefix}:{${encodeURIComponent(nsp)}}`);
  }

  /** ZSET node tag → last heartbeat (Redis TIME, ms). */
  get nodes(): string {
    return `${this.prefix}:nodes`;
  }

  /** HASH of one node: `addr`, `pv`, `id` (the instance that claimed the tag), `start`. */
  node(tag: string): string {
    return `${this.prefix}:node:${tag}`;
  }

  /** STRING: the 32-byte key nodes share to sign relayed requests. */
  get secret(): string {
    return `${this.prefix}:secret`;
  }

  /** One node's channel (responses, takeover); untagged, so it may live on any shard. */
  nodeChannel(tag: string): string {
    return `${this.prefix}:n:${tag}`;
  }
}

export class NamespaceKeys {
  constructor(readonly base: string) {}

  /** HASH `e` epoch, `s` last seq, `rid` the Redis run_id when the epoch was made. */
  get meta(): string {
    return `${this.base}:meta`;
  }

  /** STREAM of a room's stored messages, entry ids `<seq>-0`. */
  room(room: string): string {
    return `${this.base}:r:${room}`;
  }

  /** STREAM of the room-less (whole namespace) stored messages. */
  get all(): string {
    return `${this.base}:all`;
  }

  /** HASH: the last publish of one broker instance (idempotent resend after a lost reply). */
  publisher(tag: string): string {
    return `${this.base}:pub:${tag}`;
  }

  /** A room's feed channel. */
  roomChannel(room: string): string {
    return `${this.base}:c:${room}`;
  }

  /** The channel of room-less broadcasts (no colon after `c`: never a room channel). */
  get allChannel(): string {
    return `${this.base}:ca`;
  }

  /** The control channel: every node of the namespace. */
  get controlChannel(): string {
    return `${this.base}:ctl`;
  }
}
