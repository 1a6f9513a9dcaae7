export type { PublishQueueOptions } from "./publish-gate.js";
export {
  createRedisBroker,
  RedisBroker,
  type RedisBrokerCloseOptions,
  type RedisBrokerOptions,
  type RedisClient,
} from "./redis-broker.js";
