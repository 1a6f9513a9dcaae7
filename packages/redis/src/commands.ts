import type { Cluster, Redis } from "ioredis";
import { BEAT_LUA, CHECK_LUA, CLAIM_LUA, LIVE_LUA, PUBLISH_LUA, REFRESH_LUA } from "./scripts.js";

type Arg = string | Buffer | number;
type Script = (...args: Arg[]) => Promise<unknown>;

/** What the publish script answers: the position, the run_id it ran under, and whether it was a resend. */
export interface PublishReply {
  readonly epoch: string;
  readonly seq: number;
  readonly runId: string;
  readonly resent: boolean;
}

/** What the check script answers. */
export interface CheckReply {
  readonly runId: string;
  readonly epoch: string | undefined;
  readonly metaRunId: string | undefined;
}

const NAMES = {
  publish: "tuttiPublish",
  check: "tuttiCheck",
  claim: "tuttiClaim",
  refresh: "tuttiRefresh",
  beat: "tuttiBeat",
  live: "tuttiLive",
} as const;

/** The broker's scripts, defined on the command connection (ioredis sends EVALSHA, loading on NOSCRIPT). */
export class Commands {
  private readonly scripts: Record<keyof typeof NAMES, Script>;

  constructor(client: Redis | Cluster) {
    const defined = client as unknown as Record<string, Script | undefined>;
    const define = (name: string, lua: string, keys?: number) => {
      if (typeof defined[name] !== "function") {
        client.defineCommand(name, keys === undefined ? { lua } : { lua, numberOfKeys: keys });
      }
      const script = defined[name] as Script;
      return (...args: Arg[]) => script.apply(client, args);
    };
    this.scripts = {
      publish: define(NAMES.publish, PUBLISH_LUA),
      check: define(NAMES.check, CHECK_LUA, 1),
      claim: define(NAMES.claim, CLAIM_LUA, 1),
      refresh: define(NAMES.refresh, REFRESH_LUA, 1),
      beat: define(NAMES.beat, BEAT_LUA, 1),
      live: define(NAMES.live, LIVE_LUA, 1),
    };
  }

  async publish(keys: readonly string[], args: readonly Arg[]): Promise<PublishReply> {
    const reply = (await this.scripts.publish(keys.length, ...keys, ...args)) as [unknown, unknown, unknown, unknown];
    return { epoch: String(reply[0]), seq: Number(reply[1]), runId: String(reply[2]), resent: Number(reply[3]) === 1 };
  }

  async check(meta: string): Promise<CheckReply> {
    const reply = (await this.scripts.check(meta)) as [unknown, unknown, unknown];
    return {
      runId: String(reply[0]),
      epoch: typeof reply[1] === "string" ? reply[1] : undefined,
      metaRunId: typeof reply[2] === "string" ? reply[2] : undefined,
    };
  }

  async claim(nodeKey: string, instance: string, version: string, ttl: string): Promise<number> {
    return Number(await this.scripts.claim(nodeKey, instance, version, ttl));
  }

  async refresh(nodeKey: string, instance: string, version: string, ttl: string, address: string): Promise<number> {
    return Number(await this.scripts.refresh(nodeKey, instance, version, ttl, address));
  }

  async beat(nodesKey: string, tag: string): Promise<number> {
    return Number(await this.scripts.beat(nodesKey, tag));
  }

  async live(nodesKey: string, timeout: string): Promise<string[]> {
    return ((await this.scripts.live(nodesKey, timeout)) as unknown[]).map(String);
  }
}
