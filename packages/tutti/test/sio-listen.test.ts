import assert from "node:assert/strict";
import { createServer } from "node:net";
import { describe, test } from "node:test";
import { io as ioClient } from "socket.io-client";
import { Server, TuttiError } from "../src/index.js";
import { connected } from "./sio-helpers.js";

/** A port nobody listens on right now (the OS's pick, released again). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function connectsOn(port: number): Promise<void> {
  const client = ioClient(`http://127.0.0.1:${port}`, { forceNew: true, reconnection: false });
  try {
    await connected(client);
  } finally {
    client.disconnect();
  }
}

describe("a port given as a string, as socket.io takes it (io.listen(process.env.PORT))", () => {
  test('io.listen("<port>") listens on that port', async () => {
    const port = await freePort();
    const io = new Server();
    io.listen(String(port));
    try {
      await connectsOn(port);
    } finally {
      await io.close();
    }
  });

  test('new Server("<port>") listens on that port', async () => {
    const port = await freePort();
    const io = new Server(String(port));
    try {
      await connectsOn(port);
    } finally {
      await io.close();
    }
  });

  test("a string that is not a port is refused with INVALID_OPTION", () => {
    const io = new Server();
    assert.throws(
      () => io.listen("http"),
      (err: unknown) => err instanceof TuttiError && err.code === "INVALID_OPTION",
    );
  });
});
