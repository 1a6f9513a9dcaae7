/**
 * The broker's Lua scripts (run through ioredis `defineCommand`, so EVALSHA). Kept as strings
 * here rather than .lua files so that the ESM source and the CommonJS build load them alike.
 * Every script touches keys of one hash slot (a namespace's `{N}`, or one registry key), as a
 * Redis Cluster requires.
 */

/** `run_id` of the Redis instance running the script (changes on every restart and failover). */
const RUN_ID = `string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')`;

/**
 * Stores one message and fans it out, atomically (design note C4, the Centrifuge pattern over
 * several rooms):
 *
 * KEYS[1] meta, KEYS[2] this broker's last-publish record, KEYS[3..] the target streams.
 * ARGV[1] the run_id the node last saw with this namespace, ARGV[2] an epoch to use if a new
 * one is needed, ARGV[3] history size, ARGV[4] history TTL (ms), ARGV[5] the broker instance,
 * ARGV[6] its publish counter, ARGV[7] PUBLISH or SPUBLISH, ARGV[8] the payload, ARGV[9..] the
 * target channels.
 *
 * - A resend of a publish this instance already made (its reply was lost with the connection;
 *   ioredis resends unanswered commands on reconnect) is answered from the record, not stored twice.
 * - The epoch rotates when `meta` is missing (Redis lost or evicted it) or its `rid` is not the
 *   running instance's (restart or failover: a restored snapshot may have lost the tail and
 *   would re-use seqs). INFO is only asked when the node's cached run_id differs from `meta.rid`,
 *   so a node with a stale cache cannot rotate an epoch another node just made.
 * - Entry ids are `<seq>-0`. A stream left from an older epoch has higher ids: it is dropped.
 *
 * Returns `{epoch, seq, run_id of meta, 1 if answered from the record}`.
 */
export const PUBLISH_LUA = `
local meta = redis.call('HMGET', KEYS[1], 'e', 'rid')
local epoch, rid = meta[1], meta[2]
local last = redis.call('HMGET', KEYS[2], 'i', 'c', 'e', 's')
if last[1] == ARGV[5] and epoch and last[3] == epoch and tonumber(last[2]) >= tonumber(ARGV[6]) then
  return {epoch, tonumber(last[4]), rid, 1}
end
if not epoch or rid ~= ARGV[1] then
  local actual = ${RUN_ID}
  if not epoch or rid ~= actual then
    epoch, rid = ARGV[2], actual
    redis.call('DEL', KEYS[1])
    redis.call('HSET', KEYS[1], 'e', epoch, 'rid', rid, 's', 0)
  end
end
local seq = redis.call('HINCRBY', KEYS[1], 's', 1)
local id = seq .. '-0'
for i = 3, #KEYS do
  local added = redis.pcall('XADD', KEYS[i], 'MAXLEN', '~', ARGV[3], id, 'd', ARGV[8])
  if type(added) == 'table' and added.err then
    redis.call('DEL', KEYS[i])
    redis.call('XADD', KEYS[i], 'MAXLEN', '~', ARGV[3], id, 'd', ARGV[8])
  end
  redis.call('PEXPIRE', KEYS[i], ARGV[4])
end
local message = cmsgpack.pack('m', epoch, seq) .. ARGV[8]
for i = 9, #ARGV do
  redis.call(ARGV[7], ARGV[i], message)
end
redis.call('HSET', KEYS[2], 'i', ARGV[5], 'c', ARGV[6], 'e', epoch, 's', seq)
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {epoch, seq, rid, 0}
`;

/** KEYS[1] meta. Returns `{running run_id, meta.e or false, meta.rid or false}`. */
export const CHECK_LUA = `
local meta = redis.call('HMGET', KEYS[1], 'e', 'rid')
return {${RUN_ID}, meta[1], meta[2]}
`;

/**
 * Claims a node tag: KEYS[1] the node's hash; ARGV[1] instance, ARGV[2] protocol version,
 * ARGV[3] TTL (ms). Returns 1 when claimed, 0 when another live instance holds the tag.
 */
export const CLAIM_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'pv', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

/**
 * Refreshes a node's hash: KEYS[1] the hash; ARGV[1] instance, ARGV[2] protocol version,
 * ARGV[3] TTL (ms), ARGV[4] relay address or "". Returns 0 when another instance took the tag.
 */
export const REFRESH_LUA = `
local id = redis.call('HGET', KEYS[1], 'id')
if id and id ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'pv', ARGV[2])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'addr', ARGV[4]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

/** KEYS[1] the nodes ZSET; ARGV[1] tag. Scores the tag with Redis's clock; returns it (ms). */
export const BEAT_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
return now
`;

/**
 * KEYS[1] the nodes ZSET; ARGV[1] heartbeat timeout (ms). Returns the tags heard from within
 * the timeout, by Redis's clock, and forgets those silent for ten timeouts.
 */
export const LIVE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local timeout = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 10 * timeout)
return redis.call('ZRANGEBYSCORE', KEYS[1], now - timeout, '+inf')
`;
