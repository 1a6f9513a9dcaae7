export { createAdapter, type RedisAdapterOptions } from "./adapter.js";
export type { PublishQueueOptions } from "./publish-gate.js";
export {
  createRedisBroker,
  RedisBroker,
  type RedisBrokerCloseOptions,
  type RedisBrokerOptions,
  type RedisClient,
} from "./redis-broker.js";
