/**
 * The cluster adapter on Redis: tutti's adapter contract with three servers, each on its own
 * ioredis client, against the shared Redis under a key prefix of this file's own.
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, test } from "node:test";
import { Redis } from "ioredis";
import { Server } from "tutti";
import { adapterContract } from "tutti/testing";
import { createAdapter } from "../src/index.js";
import { deleteKeys, eventually, missing, randomPrefix, sharedRedisUp } from "./helpers.js";

const key = randomPrefix();
const up = await sharedRedisUp();
if (!up && process.env.CI === "true") throw new Error("Redis at 127.0.0.1:6379 is required under CI");

after(async () => {
  if (!up) return;
  const admin = new Redis({ host: "127.0.0.1", port: 6379 });
  await deleteKeys(admin, key);
  admin.disconnect();
});

if (up) {
  adapterContract("@tutti/redis", {
    async start(size) {
      const servers: Server[] = [];
      const clients: Redis[] = [];
      const adapters: ReturnType<typeof createAdapter>[] = [];
      for (let i = 0; i < size; i++) {
        const client = new Redis({ host: "127.0.0.1", port: 6379 });
        clients.push(client);
        const http = createServer();
        const adapter = createAdapter(client, {
          key,
          requestsTimeout: 3000,
          heartbeatInterval: 200,
          heartbeatTimeout: 800,
        });
        adapters.push(adapter);
        const io = new Server(http, { adapter });
        await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
        servers.push(io);
      }
      // every node sees the others before the suite counts on them
      await eventually(() => adapters.every((adapter) => adapter.broker.members().size === size));
      return {
        servers,
        async close() {
          await Promise.all(servers.map((io) => io.close()));
          for (const client of clients) client.disconnect();
        },
      };
    },
  });
} else {
  console.log("# skipped: Redis at 127.0.0.1:6379 is not available");
}

test("createAdapter(pubClient, subClient, opts) feeds from the given subscriber and leaves both clients open", async (t) => {
  if (!up) return missing(t, "Redis at 127.0.0.1:6379");
  const pub = new Redis({ host: "127.0.0.1", port: 6379 });
  const sub = new Redis({ host: "127.0.0.1", port: 6379 });
  t.after(() => {
    pub.disconnect();
    sub.disconnect();
  });
  const adapter = createAdapter(pub, sub, { key, requestsTimeout: 1000 });
  const io = new Server({ adapter });
  await adapter.broker.ready();
  const channels = (await sub.call("CLIENT", "INFO")) as string;
  assert.match(channels, /sub=[1-9]/, "the broker subscribed on the given client");
  await io.close();
  assert.equal(pub.status, "ready");
  assert.equal(sub.status, "ready");
});
