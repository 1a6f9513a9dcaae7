export { type AuthorizeOptions, authorize } from "./authorize.js";
export {
  type Guard,
  type GuardClientToServerEvents,
  GuardEvents,
  type GuardServerToClientEvents,
  type RefreshAccepted,
} from "./guard.js";
export { GuardError, GuardMessages, type GuardRefusal, type PayloadIssue } from "./guard-error.js";
export type { JWTPayload } from "./jose-types.js";
export { JWT_DEFAULTS, type JwtOptions, jwt } from "./jwt.js";
export { RATE_LIMIT_DEFAULTS, type RateLimitOptions, rateLimit } from "./rate-limit.js";
export { type BucketOptions, TokenBucket } from "./token-bucket.js";
export type { TokenSource, TokenSourceOptions } from "./token-source.js";
export {
  type Ack,
  type ArgsFromSchema,
  type EventSchema,
  type EventSchemas,
  type EventsFromSchemas,
  type ValidateOptions,
  validate,
} from "./validate.js";
