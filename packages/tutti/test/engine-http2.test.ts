import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { type ClientHttp2Session, connect, createSecureServer, type Http2SecureServer } from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { io as ioClient } from "socket.io-client";
import { Server, type Socket } from "../src/index.js";
import { connected, waitFor } from "./sio-helpers.js";

/**
 * A self-signed certificate for 127.0.0.1, made by the openssl command (node:crypto makes keys,
 * not X.509 certificates). Undefined when openssl is missing or fails.
 */
function selfSigned(): { key: Buffer; cert: Buffer } | undefined {
  const dir = mkdtempSync(join(tmpdir(), "tutti-h2-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    return { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const tls = selfSigned();
// skipped where openssl is missing (a laptop may lack it), but never under CI, where it must run
const skip =
  tls === undefined && process.env.CI !== "true" ? "openssl is not available to make a test certificate" : false;
if (tls === undefined && process.env.CI === "true") throw new Error("CI=true: openssl is needed for the HTTP/2 tests");

interface H2Answer {
  status: number;
  body: string;
}

/** One HTTP/2 request on `session`. */
function h2(session: ClientHttp2Session, method: string, path: string, body?: string): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": method, ":path": path });
    let status = 0;
    let text = "";
    stream.setEncoding("utf8");
    stream.on("response", (headers) => {
      status = Number(headers[":status"]);
    });
    stream.on("data", (chunk: string) => {
      text += chunk;
    });
    stream.on("end", () => resolve({ status, body: text }));
    stream.on("error", reject);
    stream.end(body);
  });
}

// An HTTP/2 server that also takes HTTP/1.1 (allowHTTP1), as apps put socket.io behind TLS:
// browsers poll over HTTP/2 and open the WebSocket over HTTP/1.1.
describe("an http2.createSecureServer({ allowHTTP1: true }) server", { skip }, () => {
  let server: Http2SecureServer;
  let io: Server;
  let port: number;

  before(async () => {
    server = createSecureServer({ ...(tls as { key: Buffer; cert: Buffer }), allowHTTP1: true });
    io = new Server(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    await io.close();
  });

  test("polling over HTTP/2: the handshake, the namespace connect and events both ways", async () => {
    const session = connect(`https://127.0.0.1:${port}`, { ca: tls?.cert });
    try {
      const open = await h2(session, "GET", "/socket.io/?EIO=4&transport=polling");
      assert.equal(open.status, 200, open.body);
      assert.ok(open.body.startsWith("0{"), open.body);
      const { sid } = JSON.parse(open.body.slice(1)) as { sid: string };
      const path = `/socket.io/?EIO=4&transport=polling&sid=${sid}`;

      const joined = waitFor<[Socket]>(io, "connection");
      assert.equal((await h2(session, "POST", path, "40")).body, "ok");
      const [socket] = await joined;
      assert.match((await h2(session, "GET", path)).body, /^40\{"sid":"[^"]+"\}$/);

      const hello = waitFor<[string]>(socket, "hello");
      assert.equal((await h2(session, "POST", path, '42["hello","over h2"]')).body, "ok");
      assert.deepEqual(await hello, ["over h2"]);
      socket.emit("reply", "back over h2");
      assert.equal((await h2(session, "GET", path)).body, '42["reply","back over h2"]');
    } finally {
      session.close();
    }
  });

  test("the official client over HTTP/1.1 TLS on the same server, polling then WebSocket", async () => {
    const client = ioClient(`https://127.0.0.1:${port}`, {
      forceNew: true,
      reconnection: false,
      ca: tls?.cert.toString(),
    });
    try {
      const joined = waitFor<[Socket]>(io, "connection");
      await connected(client);
      const [socket] = await joined;
      await waitFor(socket.conn, "upgrade");
      assert.equal(socket.conn.transport.name, "websocket");
      socket.on("echo", (text: string, ack: (text: string) => void) => ack(text));
      assert.equal(await client.timeout(5000).emitWithAck("echo", "over TLS"), "over TLS");
    } finally {
      client.disconnect();
    }
  });
});
