import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { describe, test } from "node:test";
import { type EngineOptions, EngineServer, TuttiError } from "../src/index.js";
import { handshakeUrl, http, type Running, startEngine, wsHandshake } from "./helpers.js";

const HANDSHAKE = "/socket.io/?EIO=4&transport=polling";

/** The status of a raw polling handshake whose request carries `forwardedFor`. */
async function handshake(s: Running, forwardedFor?: string): Promise<number> {
  const headers: Record<string, string> = forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor };
  return (await http(s.port, "GET", HANDSHAKE, undefined, headers)).status;
}

/** One session per address, no rate limit: a second handshake under the same address gets 429. */
function startLimited(opts: EngineOptions): Promise<Running> {
  return startEngine({ maxConnectionsPerIp: 1, handshakeRate: false, ...opts });
}

describe("trustedProxies", () => {
  test("from a trusted proxy, each X-Forwarded-For client has its own count", async () => {
    const s = await startLimited({ trustedProxies: ["127.0.0.1"] });
    try {
      assert.equal(await handshake(s, "10.0.0.1"), 200);
      assert.equal(await handshake(s, "10.0.0.1"), 429);
      assert.equal(await handshake(s, "10.0.0.2"), 200);
      // a WebSocket handshake counts under the forwarded client too
      assert.equal(await wsHandshake(handshakeUrl(s.port, "websocket"), { "x-forwarded-for": "10.0.0.2" }), 429);
      assert.equal(await wsHandshake(handshakeUrl(s.port, "websocket"), { "x-forwarded-for": "10.0.0.3" }), "open");
    } finally {
      await s.close();
    }
  });

  test("the client is the right-most entry that is not a trusted proxy: entries a client forges are ignored", async () => {
    const s = await startLimited({ trustedProxies: ["127.0.0.1", "10.1.0.0/16"] });
    try {
      // the client wrote 6.6.6.6 itself; the trusted proxy appended the address it saw, 10.0.0.4
      assert.equal(await handshake(s, "6.6.6.6, 10.0.0.4"), 200);
      assert.equal(await handshake(s, "7.7.7.7, 10.0.0.4"), 429);
      // two proxies: 10.1.2.3 is a trusted one (inside 10.1.0.0/16), so the client is 10.0.0.5
      assert.equal(await handshake(s, "10.0.0.5, 10.1.2.3"), 200);
      assert.equal(await handshake(s, "10.0.0.5,10.1.9.9"), 429);
      // every entry a trusted proxy: the left-most is the client
      assert.equal(await handshake(s, "10.1.0.7, 10.1.2.3"), 200);
      assert.equal(await handshake(s, "10.1.0.7"), 429);
      // a port after the address (some balancers add it) is not part of the address
      assert.equal(await handshake(s, "10.0.0.6:51234"), 200);
      assert.equal(await handshake(s, "10.0.0.6"), 429);
    } finally {
      await s.close();
    }
  });

  test("from a peer that is not a trusted proxy, X-Forwarded-For is ignored: it counts under the peer", async () => {
    const s = await startLimited({ trustedProxies: ["10.9.9.9", "192.168.0.0/24"] });
    try {
      assert.equal(await handshake(s, "10.0.0.1"), 200);
      assert.equal(await handshake(s, "10.0.0.2"), 429);
      assert.equal(await handshake(s), 429);
    } finally {
      await s.close();
    }
  });

  test("without trustedProxies, X-Forwarded-For is ignored", async () => {
    const s = await startLimited({});
    try {
      assert.equal(await handshake(s, "10.0.0.1"), 200);
      assert.equal(await handshake(s, "10.0.0.2"), 429);
    } finally {
      await s.close();
    }
  });

  test("IPv6: a CIDR of proxies, clients counted under their /64", async () => {
    const s = await startLimited({ trustedProxies: ["::ffff:127.0.0.0/104", "fd00::/8"] });
    try {
      assert.equal(await handshake(s, "2001:db8:1:2::5, fd00::1"), 200);
      assert.equal(await handshake(s, "2001:db8:1:2::6"), 429);
      assert.equal(await handshake(s, "[2001:db8:1:3::1]:4242"), 200);
      assert.equal(await handshake(s, "2001:db8:1:3::2"), 429);
    } finally {
      await s.close();
    }
  });

  test("a custom clientAddress gets the forwarded client's address and decides the key", async () => {
    const seen: string[] = [];
    const s = await startLimited({
      trustedProxies: ["127.0.0.0/8"],
      clientAddress: (req: IncomingMessage, address: string) => {
        seen.push(address);
        return String(req.headers["x-tenant"] ?? address);
      },
    });
    try {
      assert.equal(await handshake(s, "10.0.0.1"), 200);
      assert.equal(await handshake(s, "10.0.0.2"), 200);
      assert.deepEqual(seen, ["10.0.0.1", "10.0.0.2"]);
      const tenant = { "x-forwarded-for": "10.0.0.3", "x-tenant": "acme" };
      assert.equal((await http(s.port, "GET", HANDSHAKE, undefined, tenant)).status, 200);
      assert.equal(
        (await http(s.port, "GET", HANDSHAKE, undefined, { ...tenant, "x-forwarded-for": "10.0.0.4" })).status,
        429,
      );
    } finally {
      await s.close();
    }
  });

  test("an entry that is not an address or a CIDR range is refused at construction", () => {
    for (const bad of [["10.0.0.0/33"], ["proxy.internal"], ["::1/129"], ["10.0.0.1/"], "10.0.0.1"]) {
      assert.throws(
        () => new EngineServer({ trustedProxies: bad as string[] }),
        (err: unknown) => err instanceof TuttiError && err.code === "INVALID_OPTION",
        String(bad),
      );
    }
  });
});
