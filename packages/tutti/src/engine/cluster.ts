/**
 * What the engine needs of a cluster to serve any node's sessions (no sticky sessions): its own
 * tag, which prefixes the ids of the sessions it opens, and where a session's owner is. A
 * `Broker` is one (`Server#adapter` hands the engine the broker of a cluster adapter).
 */
export interface EngineCluster {
  /** This node's tag: 6 base64url characters. */
  readonly tag: string;
  /** The node `tag` when it is alive, with its relay address once it announced one; undefined when dead or unknown. */
  locate(tag: string): Promise<{ readonly address?: string | undefined } | undefined>;
  /** Announces where this node's relay listener is. */
  setAddress(address: string): void;
  /** The key the nodes share to sign relayed requests (the client's address travels signed). */
  secret(): Promise<Uint8Array>;
}
