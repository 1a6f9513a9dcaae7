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

describe("connection_error's context as socket.io reports it", () => {
  test("a request on the wrong transport for its session names both transports", async (t) => {
    const s = await startIo();
    t.after(() => s.close());
    const handshake = await http(s.port, "GET", "/socket.io/?EIO=4&transport=polling");
    const sid = (JSON.parse(handshake.body.slice(1)) as { sid: string }).sid;
    const refused = waitFor<[ConnectionError]>(s.io.engine, "connection_error");
    // A plain GET (no Upgrade header) that says websocket for a polling session: what a proxy
    // that strips the upgrade headers turns the client's upgrade into.
    const res = await http(s.port, "GET", `/socket.io/?EIO=4&transport=websocket&sid=${sid}`);
    assert.equal(res.status, 400);
    assert.deepEqual(JSON.parse(res.body), { code: 3, message: "Bad request" });
    const [err] = await refused;
    assert.equal(err.message, "Bad request");
    assert.deepEqual(err.context, { name: "TRANSPORT_MISMATCH", transport: "websocket", previousTransport: "polling" });
  });

  test("an unsupported protocol version is given as a number", async (t) => {
    const s = await startIo();
    t.after(() => s.close());
    const refused = waitFor<[ConnectionError]>(s.io.engine, "connection_error");
    const res = await http(s.port, "GET", "/socket.io/?EIO=3&transport=polling");
    assert.equal(res.status, 400);
    assert.deepEqual(JSON.parse(res.body), { code: 5, message: "Unsupported protocol version" });
    const [err] = await refused;
    assert.equal(err.code, 5);
    assert.equal(err.context.protocol, 3);
  });
});
