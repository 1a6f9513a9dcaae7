// Runtime drop-in: what socket.io apps and the packages around them (the admin UI, ...) read
// from the server objects, checked with the official client over each transport.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Socket } from "../src/index.js";
import { connected, startIo, TRANSPORT_MODES, waitFor } from "./sio-helpers.js";

describe("socket.client as socket.io's", () => {
  for (const mode of TRANSPORT_MODES) {
    test(`socket.client.id is the Engine.IO session id, as @socket.io/admin-ui reads it (${mode})`, async () => {
      const r = await startIo({}, mode);
      try {
        const serverSide = waitFor<[Socket]>(r.io, "connection");
        const client = r.client("/");
        await connected(client);
        const [socket] = await serverSide;
        assert.equal(typeof socket.client.id, "string");
        assert.equal(socket.client.id, socket.conn.id);
        // the admin UI shortens it: it must not be the empty string
        assert.ok(socket.client.id.length > 0);
      } finally {
        await r.close();
      }
    });
  }
});
