/**
 * `io.engine.on("connection_error")` as socket.io 4.8 reports it: `message` is the protocol's
 * fixed text for `code` ("Forbidden", "Bad request", ...), whatever the refusal, so an app can
 * switch on it; what is particular to one refusal (the text `allowRequest` gave, the transports
 * of a mismatch) is in `context`. Found by running socket.io's own server suite against Tutti.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ConnectionError } from "../src/index.js";
import { http } from "./helpers.js";
import { startIo, waitFor } from "./sio-helpers.js";

describe("connection_error as socket.io reports it", () => {
  test("an allowRequest refusal: message Forbidden, the app's text in context and in the response", async (t) => {
    const s = await startIo({ allowRequest: (_req, callback) => callback("Thou shall not pass", false) });
    t.after(() => s.close());
    const refused = waitFor<[ConnectionError]>(s.io.engine, "connection_error");
    const res = await http(s.port, "GET", "/socket.io/?EIO=4&transport=polling");
    assert.equal(res.status, 403);
    assert.deepEqual(JSON.parse(res.body), { code: 4, message: "Thou shall not pass" });
    const [err] = await refused;
    assert.equal(err.code, 4);
    assert.equal(err.message, "Forbidden");
    assert.equal(err.context.message, "Thou shall not pass");
  });
});
