import { type ClusterAdapterConstructor, type ClusterAdapterOptions, createClusterAdapter } from "tutti";
import { createRedisBroker, type RedisBrokerOptions, type RedisClient } from "./redis-broker.js";

/** Options of `createAdapter`: the broker's (`key`, history, heartbeats…) and the cluster adapter's (`requestsTimeout`…). */
export interface RedisAdapterOptions extends Omit<RedisBrokerOptions, "subClient">, ClusterAdapterOptions {}

function isClient(value: unknown): value is RedisClient {
  return (
    typeof value === "object" && value !== null && typeof (value as { duplicate?: unknown }).duplicate === "function"
  );
}

/**
 * `@socket.io/redis-adapter`'s signature: `io.adapter(createAdapter(pubClient, subClient, opts))`.
 * `subClient` is optional (`createAdapter(pubClient, opts)` duplicates `pubClient` for the
 * feed, and closes that duplicate with the server). The keys are prefixed with `key`:
 * "tutti" unless given (socket.io's adapter uses "socket.io"; Tutti's keys differ from its
 * anyway, so the two never share a deployment).
 */
export function createAdapter(
  pubClient: RedisClient,
  subClient?: RedisClient | RedisAdapterOptions,
  opts: RedisAdapterOptions = {},
): ClusterAdapterConstructor {
  const sub = isClient(subClient) ? subClient : undefined;
  const options = isClient(subClient) ? opts : (subClient ?? opts);
  const { requestsTimeout, maxFetchedSockets, logger, ...brokerOptions } = options;
  const broker = createRedisBroker(pubClient, sub === undefined ? brokerOptions : { ...brokerOptions, subClient: sub });
  const adapterOptions: ClusterAdapterOptions = {};
  if (requestsTimeout !== undefined) adapterOptions.requestsTimeout = requestsTimeout;
  if (maxFetchedSockets !== undefined) adapterOptions.maxFetchedSockets = maxFetchedSockets;
  if (logger !== undefined) adapterOptions.logger = logger;
  return createClusterAdapter(broker, adapterOptions);
}
