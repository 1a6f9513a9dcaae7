/**
 * Typed events, as socket.io types them. The value of this file is `tsc --noEmit`: each
 * `@ts-expect-error` line must fail to compile (tsc reports an unused one), and every other line
 * must compile. The type-level checks live in functions that are never called; a small runtime
 * test exercises the same typed API against a real server.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Socket as ClientSocket } from "socket.io-client";
import * as msgpackParser from "socket.io-msgpack-parser";
import * as socketIoParser from "socket.io-parser";
import { type BroadcastOperator, type Namespace, Server, type Socket } from "../src/index.js";
import { connected, startIo } from "./sio-helpers.js";

interface ServerToClientEvents {
  noArg: () => void;
  basicEmit: (a: number, b: string, c: Buffer) => void;
  withAck: (d: string, callback: (e: number) => void) => void;
}

interface ClientToServerEvents {
  hello: (name: string) => void;
  withAck: (x: number, cb: (ok: boolean) => void) => void;
}

interface InterServerEvents {
  ping: () => void;
}

interface SocketData {
  name: string;
  age: number;
}

type TypedServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type TypedSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** Compile-time equality: `expectType<Equal<A, B>>(true)` fails to compile unless A and B are the same. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_ok: T): void {}

// ---- never called: compile-time checks only ----

function parsers(): void {
  // the parser modules as published fit the `parser` option's type, as they fit socket.io's
  new Server({ parser: msgpackParser });
  new Server({ parser: socketIoParser });
  // @ts-expect-error a parser needs a Decoder
  new Server({ parser: { Encoder: socketIoParser.Encoder } });
}

function typedServer(): void {
  const io = new Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>();

  io.on("connection", (socket) => {
    expectType<Equal<typeof socket, TypedSocket>>(true);

    socket.on("hello", (name) => {
      name satisfies string;
      expectType<Equal<typeof name, string>>(true);
    });
    socket.on("withAck", (x, cb) => {
      x satisfies number;
      cb(true);
      // @ts-expect-error the ack takes a boolean
      cb("yes");
    });
    // @ts-expect-error the client sends a string, not a number
    socket.on("hello", (name: number) => name);
    // @ts-expect-error not an event the client sends
    socket.on("basicEmit", () => {});
    // @ts-expect-error unknown event
    socket.on("nope", () => {});
    socket.on("disconnect", (reason) => {
      reason satisfies string;
    });

    socket.emit("noArg");
    socket.emit("basicEmit", 1, "2", Buffer.from([3]));
    // @ts-expect-error too few arguments, and the wrong type
    socket.emit("basicEmit", "1");
    // @ts-expect-error the wrong type in second position
    socket.emit("basicEmit", 1, 2, Buffer.from([3]));
    // @ts-expect-error noArg takes no arguments
    socket.emit("noArg", 1);
    // @ts-expect-error "hello" is sent by the client, not emitted by the server
    socket.emit("hello", "x");
    // @ts-expect-error unknown event
    socket.emit("nope");

    socket.emit("withAck", "4", (e) => {
      e satisfies number;
      expectType<Equal<typeof e, number>>(true);
    });
    // @ts-expect-error the ack gets a number
    socket.emit("withAck", "4", (e: string) => e);
    // @ts-expect-error the ack callback is part of the signature
    socket.emit("withAck", "4");

    socket.timeout(10).emit("withAck", "4", (err, e) => {
      err satisfies Error;
      e satisfies number;
      expectType<Equal<typeof e, number>>(true);
    });
    // @ts-expect-error with a timeout, the ack's first argument is the error
    socket.timeout(10).emit("withAck", "4", (e: number) => e);

    void (async () => {
      const e: number = await socket.emitWithAck("withAck", "4");
      const e2: number = await socket.timeout(10).emitWithAck("withAck", "4");
      expectType<Equal<Awaited<ReturnType<typeof socket.emitWithAck<"withAck">>>, number>>(true);
      // @ts-expect-error the ack answers a number
      const s: string = await socket.emitWithAck("withAck", "4");
      // @ts-expect-error "noArg" has no ack
      await socket.emitWithAck("noArg");
      // @ts-expect-error the argument is a string
      await socket.emitWithAck("withAck", 4);
      return [e, e2, s];
    })();

    socket.data.name satisfies string;
    socket.data.age satisfies number;
    socket.data = { name: "a", age: 1 };
    // @ts-expect-error name is a string
    socket.data = { name: 1, age: 1 };
    // @ts-expect-error no such field
    socket.data.nope;

    socket.to("room").emit("noArg");
    socket.broadcast.emit("basicEmit", 1, "2", Buffer.alloc(0));
    // @ts-expect-error the wrong arguments in a broadcast
    socket.broadcast.emit("basicEmit", "1");
    socket.volatile.emit("noArg");
    socket.compress(false).emit("noArg");
  });

  io.emit("noArg");
  io.emit("basicEmit", 1, "2", Buffer.from([3]));
  // @ts-expect-error the wrong arguments
  io.emit("basicEmit", "1");
  io.to("room").emit("noArg");
  io.to(["a", "b"]).except("c").emit("basicEmit", 1, "2", Buffer.alloc(0));
  // @ts-expect-error the wrong arguments for a room
  io.to("room").emit("noArg", 1);
  io.in("room").emit("noArg");
  io.of("/admin").to("room").emit("noArg");
  // @ts-expect-error unknown event for a namespace's room
  io.of("/admin").to("room").emit("nope");

  io.timeout(10).emit("withAck", "4", (err, responses) => {
    err satisfies Error;
    responses satisfies number[];
    expectType<Equal<typeof responses, number[]>>(true);
  });
  io.to("room")
    .timeout(10)
    .emit("withAck", "4", (_err, responses) => {
      responses satisfies number[];
    });
  // @ts-expect-error responses are numbers
  io.timeout(10).emit("withAck", "4", (_err: Error, responses: string[]) => responses);

  void (async () => {
    const rs: number[] = await io.timeout(10).emitWithAck("withAck", "x");
    const rs2: number[] = await io.to("room").timeout(10).emitWithAck("withAck", "x");
    // @ts-expect-error a broadcast resolves with every response
    const one: number = await io.timeout(10).emitWithAck("withAck", "x");
    return [rs, rs2, one];
  })();

  io.serverSideEmit("ping");
  // @ts-expect-error not an inter-server event
  io.serverSideEmit("nope");
  // @ts-expect-error ping takes no arguments
  io.serverSideEmit("ping", 1);
  io.on("ping", () => {});

  io.use((socket, next) => {
    socket.data.name satisfies string;
    socket.data.age = 3;
    next();
    next(new Error("refused"));
  });
  io.of("/admin").use((socket, next) => {
    socket.data.age satisfies number;
    next();
  });

  io.of("/admin").on("connection", (socket) => {
    socket.on("hello", (name) => name satisfies string);
    socket.emit("withAck", "x", (e) => e satisfies number);
  });

  void (async () => {
    const sockets = await io.fetchSockets();
    for (const s of sockets) {
      s.data.name satisfies string;
      s.emit("noArg");
      // @ts-expect-error a fetched socket is typed too
      s.emit("noArg", 1);
    }
  })();

  const nsp: Namespace<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData> = io.of("/x");
  const op: BroadcastOperator<ServerToClientEvents, SocketData> = nsp.to("r");
  op.emit("noArg");
}

function untypedServer(): void {
  const io = new Server();
  io.on("connection", (socket) => {
    socket.on("anything", (a, b, c) => [a, b, c]);
    socket.on("withAck", (x: number, cb: (ok: boolean) => void) => cb(x > 0));
    socket.emit("anything");
    socket.emit("anything", 1, "2", { three: [3] }, Buffer.alloc(1));
    socket.emit("withAck", "x", (answer: unknown) => answer);
    socket.timeout(10).emit("withAck", (err: Error | null, answer: unknown) => [err, answer]);
    socket.data satisfies unknown;
    void (async () => {
      const anything = await socket.emitWithAck("anything", 1, 2);
      return anything;
    })();
  });
  io.emit("whatever", 1, 2, 3);
  io.to("room").emit("x", { y: 1 });
  io.serverSideEmit("whatever", 1);
  io.timeout(10).emit("x", (err: Error | null, responses: unknown[]) => [err, responses]);
  void (async () => {
    const rs = await io.timeout(10).emitWithAck("x", 1);
    return rs;
  })();
}

function withoutServerSideAndData(): void {
  // two type arguments: InterServerEvents and SocketData default as in socket.io
  const io = new Server<ClientToServerEvents, ServerToClientEvents>();
  io.on("connection", (socket) => {
    socket.on("hello", (name) => name satisfies string);
    socket.emit("noArg");
    // @ts-expect-error still typed
    socket.emit("noArg", 1);
  });
  io.serverSideEmit("anything", 1, 2);
}

void [typedServer, untypedServer, withoutServerSideAndData, parsers];

// ---- runtime: the same typed API against a real server ----

test("the typed API works at runtime: typed on/emit/acks/timeouts against a real server", {
  timeout: 10_000,
}, async () => {
  const run = await startIo();
  try {
    const io = run.io as unknown as TypedServer;
    let serverSocket: TypedSocket | undefined;
    const helloSeen = new Promise<string>((resolve) => {
      io.on("connection", (socket) => {
        serverSocket = socket;
        socket.data = { name: "n", age: 1 };
        socket.on("hello", (name) => resolve(name));
        socket.on("withAck", (x, cb) => cb(x > 0));
      });
    });
    const client = run.client("/") as unknown as ClientSocket<ServerToClientEvents, ClientToServerEvents>;
    client.on("withAck", (d, callback) => callback(d.length));
    client.on("basicEmit", () => {});
    await connected(client);

    client.emit("hello", "typed");
    assert.equal(await helloSeen, "typed");
    assert.equal(await client.emitWithAck("withAck", 5), true);

    const socket = serverSocket;
    assert.ok(socket);
    assert.deepEqual(socket.data, { name: "n", age: 1 });
    const [fetched] = await io.fetchSockets();
    assert.equal(fetched?.data.name, "n");
    const e: number = await socket.emitWithAck("withAck", "four");
    assert.equal(e, 4);
    const timed: number = await socket.timeout(5000).emitWithAck("withAck", "12");
    assert.equal(timed, 2);
    const rs: number[] = await io.timeout(5000).emitWithAck("withAck", "abc");
    assert.deepEqual(rs, [3]);
    assert.equal(io.serverSideEmit("ping"), true);
  } finally {
    await run.close();
  }
});
