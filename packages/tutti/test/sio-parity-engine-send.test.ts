/**
 * `session.send(data)` (socket.conn.send, io.engine's sessions) with data that is neither a
 * string nor binary, as engine.io takes it: its README promises "a string or any object
 * implementing toString()", and it sends a falsy value as an empty message. engine.io's own
 * server suite sends numbers this way; Tutti threw a TypeError from send(). Found by running
 * that suite against Tutti.
 */
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { Socket } from "engine.io-client";
import type { EngineSession, SendData } from "../src/index.js";
import { type Running, startEngine } from "./helpers.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** What a JavaScript caller may hand to send(): outside SendData, as engine.io allows. */
const untyped = (value: unknown): SendData => value as SendData;

async function received(
  transport: "polling" | "websocket",
  send: (session: EngineSession) => void,
): Promise<unknown[]> {
  let server: Running | undefined;
  const got: unknown[] = [];
  const done = new Promise<void>((resolve, reject) => {
    startEngine({}, (session) => {
      // After the open packet has gone, so each message is a packet of its own.
      setImmediate(() => {
        try {
          send(session);
          session.send("end");
        } catch (err) {
          reject(err);
        }
      });
    }).then((s) => {
      server = s;
      cleanups.push(() => s.close());
      const client = new Socket(s.url, { path: "/socket.io/", transports: [transport] });
      cleanups.push(() => client.close());
      client.on("message", (data) => {
        if (data === "end") resolve();
        else got.push(data);
      });
    }, reject);
  });
  await done;
  assert.ok(server);
  return got;
}

describe("session.send with data that is not a string or binary, as engine.io", () => {
  for (const transport of ["websocket", "polling"] as const) {
    test(`numbers and objects go as their string, falsy values as an empty message (${transport})`, async () => {
      const got = await received(transport, (session) => {
        session.send(untyped(42));
        session.send(untyped({ toString: () => "custom" }));
        session.send(untyped(null));
        session.send(untyped(0));
      });
      // An empty message packet ("4") reaches the official client as undefined data, as it does
      // from engine.io.
      assert.deepEqual(got, ["42", "custom", undefined, undefined]);
    });
  }
});
