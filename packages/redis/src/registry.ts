import { randomBytes } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import type { Clock, ClockTimer, NodeInfo } from "tutti";
import type { Commands } from "./commands.js";
import type { Keys } from "./keys.js";

export interface RegistryOptions {
  readonly heartbeatInterval: number;
  readonly heartbeatTimeout: number;
  readonly membersInterval: number;
  readonly protocolVersion: number;
}

export interface RegistryEvents {
  up(node: NodeInfo): void;
  down(tag: string): void;
  error(error: Error): void;
}

/** How many tags a node draws before it gives up (each collision has odds of about n / 2^36). */
const CLAIM_ATTEMPTS = 5;

/**
 * Cluster membership (design note C3/C4): this node claims a tag, scores itself in the
 * `P:nodes` ZSET with Redis's clock every `heartbeatInterval`, keeps its `P:node:<tag>` hash
 * (address, protocol version) alive, and reads who else is alive every `membersInterval`. A node
 * absent from the read (silent for `heartbeatTimeout` by Redis's clock, or gone) is down.
 * Redis's clock rather than each node's: nodes' clocks may disagree, and one clock needs no sync.
 */
export class Registry {
  tag: string = newTag();
  readonly instance = randomBytes(6).toString("base64url");
  private readonly nodes = new Map<string, NodeInfo>();
  private address: string | undefined;
  private beatTimer: ClockTimer | undefined;
  private readTimer: ClockTimer | undefined;
  private running = false;
  /** Until then (clock ms) no node is declared down: after an outage every node beats late. */
  private graceUntil = 0;
  private wasDown = false;
  private readonly onReady = () => {
    if (!this.running) return;
    if (this.wasDown) {
      this.wasDown = false;
      this.graceUntil = this.clock.now() + this.options.heartbeatTimeout;
      this.beat();
    }
  };
  private readonly onClose = () => {
    this.wasDown = true;
  };

  constructor(
    private readonly client: Redis | Cluster,
    private readonly commands: Commands,
    private readonly keys: Keys,
    private readonly options: RegistryOptions,
    private readonly clock: Clock,
    private readonly events: RegistryEvents,
  ) {
    this.nodes.set(this.tag, this.self());
  }

  members(): ReadonlyMap<string, NodeInfo> {
    return this.nodes;
  }

  /** Claims a free tag (the node is not announced yet: see `announce`). */
  async claim(): Promise<void> {
    const ttl = String(this.options.heartbeatTimeout);
    for (let attempt = 1; ; attempt++) {
      const claimed = await this.commands.claim(
        this.keys.node(this.tag),
        this.instance,
        String(this.options.protocolVersion),
        ttl,
      );
      if (claimed === 1) break;
      if (attempt === CLAIM_ATTEMPTS) throw new Error(`@tutti/redis: no free node tag after ${attempt} attempts`);
      this.nodes.delete(this.tag);
      this.tag = newTag();
      this.nodes.set(this.tag, this.self());
    }
  }

  /** Announces this node, reads who else is alive, and starts the heartbeat and the reads. */
  async announce(): Promise<void> {
    this.running = true;
    this.client.on("ready", this.onReady);
    this.client.on("close", this.onClose);
    await this.beatOnce();
    await this.readOnce();
    this.scheduleBeat();
    this.scheduleRead();
  }

  setAddress(address: string): void {
    this.address = address;
    this.nodes.set(this.tag, this.self());
    if (this.running) this.beat();
  }

  /** The node `tag` if alive: the local view, else its hash in Redis. */
  async locate(tag: string): Promise<NodeInfo | undefined> {
    const known = this.nodes.get(tag);
    if (known !== undefined && known.address !== undefined) return known;
    if (this.client.status !== "ready") return known;
    try {
      return (await this.fetch(tag)) ?? known;
    } catch {
      return known;
    }
  }

  /** Stops beating; `deregister` removes this node at once (others see it down on their next read). */
  async stop(deregister: boolean): Promise<void> {
    this.running = false;
    this.client.off("ready", this.onReady);
    this.client.off("close", this.onClose);
    this.clock.clearTimeout(this.beatTimer);
    this.clock.clearTimeout(this.readTimer);
    if (!deregister || this.client.status !== "ready") return;
    await Promise.all([this.client.zrem(this.keys.nodes, this.tag), this.client.del(this.keys.node(this.tag))]).catch(
      () => {},
    );
  }

  private self(): NodeInfo {
    return { tag: this.tag, version: this.options.protocolVersion, address: this.address };
  }

  private scheduleBeat(): void {
    this.beatTimer = this.clock.setTimeout(() => {
      this.beat();
      if (this.running) this.scheduleBeat();
    }, this.options.heartbeatInterval);
  }

  private scheduleRead(): void {
    this.readTimer = this.clock.setTimeout(() => {
      this.readOnce()
        .catch(() => {})
        .finally(() => {
          if (this.running) this.scheduleRead();
        });
    }, this.options.membersInterval);
  }

  private beat(): void {
    this.beatOnce().catch(() => {});
  }

  private async beatOnce(): Promise<void> {
    if (this.client.status !== "ready") return;
    const [refreshed] = await Promise.all([
      this.commands.refresh(
        this.keys.node(this.tag),
        this.instance,
        String(this.options.protocolVersion),
        String(this.options.heartbeatTimeout),
        this.address ?? "",
      ),
      this.commands.beat(this.keys.nodes, this.tag),
    ]);
    if (refreshed === 0) {
      this.events.error(
        new Error(
          `@tutti/redis: node tag ${this.tag} was taken by another node while this one was silent; this node's sessions may be misrouted`,
        ),
      );
    }
  }

  private async readOnce(): Promise<void> {
    if (!this.running || this.client.status !== "ready") return;
    const live = new Set(await this.commands.live(this.keys.nodes, String(this.options.heartbeatTimeout)));
    if (!this.running) return;
    live.add(this.tag);
    const unknown = [...live].filter((tag) => {
      const node = this.nodes.get(tag);
      return node === undefined || (node.address === undefined && tag !== this.tag);
    });
    const fetched = await Promise.all(unknown.map((tag) => this.fetch(tag).catch(() => undefined)));
    if (!this.running) return;
    unknown.forEach((tag, i) => {
      const node = fetched[i];
      if (node === undefined) return;
      const isNew = !this.nodes.has(tag);
      this.nodes.set(tag, node);
      if (isNew) this.events.up(node);
    });
    if (this.clock.now() < this.graceUntil) return;
    for (const tag of [...this.nodes.keys()]) {
      if (live.has(tag)) continue;
      this.nodes.delete(tag);
      this.events.down(tag);
    }
  }

  private async fetch(tag: string): Promise<NodeInfo | undefined> {
    const hash = await this.client.hgetall(this.keys.node(tag));
    if (hash.pv === undefined) return undefined;
    return { tag, version: Number(hash.pv), address: hash.addr };
  }
}

/** 6 base64url characters (36 random bits). */
function newTag(): string {
  return randomBytes(6).toString("base64url").slice(0, 6);
}
