/**
 * The `validate` guard through the official client, with zod, valibot and arktype schemas: what
 * the handler gets (the schemas' outputs) and what the client's ack gets for an invalid payload.
 * The type-level checks (handler arguments typed from the schemas) compile under `tsc --noEmit`:
 * every `@ts-expect-error` line must fail to compile.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type } from "arktype";
import type { Socket as ClientSocket } from "socket.io-client";
import * as v from "valibot";
import { z } from "zod";
import {
  type Ack,
  type EventSchemas,
  type EventsFromSchemas,
  type GuardError,
  type PayloadIssue,
  rateLimit,
  Server,
  type Socket as ServerSocket,
  TuttiError,
  type ValidateOptions,
  validate,
} from "../src/index.js";
import { cleanupsAfterEach, next } from "./guard-helpers.js";
import { connected, type RunningIo, startIo } from "./sio-helpers.js";

const cleanups = cleanupsAfterEach();

/** The events the test app handles, with or without a schema. */
const EVENTS = ["say", "move", "measure", "count", "tick", "nick", "other", "sync", "slow", "bad", "many", "long"];

interface App {
  s: RunningIo;
  /** What each handler got: [event, ...args] (without the ack). */
  handled: unknown[][];
  errors: GuardError[];
}

/** A server with `validate(schemas)`; each handler records its arguments and acks "ok". */
async function start(schemas: EventSchemas, options?: ValidateOptions): Promise<App> {
  const s = await startIo();
  cleanups.push(() => s.close());
  const handled: unknown[][] = [];
  const errors: GuardError[] = [];
  s.io.use(validate(schemas, options));
  s.io.on("connection", (socket) => {
    socket.on("error", (err) => errors.push(err as GuardError));
    for (const event of EVENTS) {
      socket.on(event, (...args: unknown[]) => {
        const ack = args.at(-1);
        handled.push([event, ...(typeof ack === "function" ? args.slice(0, -1) : args)]);
        if (typeof ack === "function") ack("ok");
      });
    }
  });
  return { s, handled, errors };
}

async function connect(app: App): Promise<{ client: ClientSocket; server: ServerSocket }> {
  const serverSide = next<[ServerSocket]>(app.s.io, "connection");
  const client = app.s.client("/");
  const [, [server]] = await Promise.all([connected(client), serverSide]);
  return { client, server };
}

type Refusal = { code: string; message: string; issues: PayloadIssue[] };

function send(client: ClientSocket, event: string, ...args: unknown[]): Promise<"ok" | Refusal> {
  return client.timeout(5000).emitWithAck(event, ...args);
}

/** The issues' paths, for comparing across libraries whose messages differ. */
function paths(answer: "ok" | Refusal): (string | number)[][] {
  assert.notEqual(answer, "ok");
  const refusal = answer as Refusal;
  assert.equal(refusal.code, "INVALID_PAYLOAD");
  assert.equal(refusal.message, "Invalid payload");
  for (const issue of refusal.issues) assert.equal(typeof issue.message, "string");
  return refusal.issues.map((i) => i.path);
}

// The same events in each library: a message object, a move with two numeric arguments, a
// string turned into its length (a transform), and a numeric string parsed into a number.
const libraries = {
  zod: {
    say: z.object({ text: z.string().min(1), room: z.string().optional() }),
    move: [z.number(), z.number()],
    measure: z.string().transform((s) => s.length),
    count: z.coerce.number().int(),
    tick: [],
    nick: z.string().refine(async (s) => s !== "taken", "taken"),
  },
  valibot: {
    say: v.object({ text: v.pipe(v.string(), v.minLength(1)), room: v.optional(v.string()) }),
    move: [v.number(), v.number()],
    measure: v.pipe(
      v.string(),
      v.transform((s) => s.length),
    ),
    count: v.pipe(v.string(), v.decimal(), v.transform(Number)),
    tick: [],
    nick: v.pipeAsync(
      v.string(),
      v.checkAsync(async (s) => s !== "taken", "taken"),
    ),
  },
  arktype: {
    say: type({ text: "string > 0", "room?": "string" }),
    move: [type("number"), type("number")],
    measure: type("string").pipe((s) => s.length),
    count: type("string.integer.parse"),
    tick: [],
    nick: type("string").narrow((s) => s !== "taken"),
  },
} as const satisfies Record<string, EventSchemas>;

for (const [library, schemas] of Object.entries(libraries)) {
  describe(`validate with ${library}`, () => {
    test("a valid payload reaches the handler with the schema's output", async () => {
      const app = await start(schemas);
      const { client } = await connect(app);
      assert.equal(await send(client, "say", { text: "hi" }), "ok");
      assert.equal(await send(client, "move", 1, 2), "ok");
      assert.equal(await send(client, "measure", "hello"), "ok");
      assert.equal(await send(client, "count", "42"), "ok");
      assert.equal(await send(client, "tick"), "ok");
      assert.equal(await send(client, "nick", "free"), "ok");
      assert.deepEqual(app.handled, [
        ["say", { text: "hi" }],
        ["move", 1, 2],
        ["measure", 5],
        ["count", 42],
        ["tick"],
        ["nick", "free"],
      ]);
    });

    test("an invalid payload never reaches the handler; the ack gets INVALID_PAYLOAD with issues", async () => {
      const app = await start(schemas);
      const { client } = await connect(app);
      assert.deepEqual(paths(await send(client, "say", { text: 1 })), [[0, "text"]]);
      assert.deepEqual(paths(await send(client, "say", "hi")), [[0]]);
      assert.deepEqual(paths(await send(client, "move", 1, "2")), [[1]]);
      assert.deepEqual(paths(await send(client, "move", "1", "2")), [[0], [1]]);
      assert.deepEqual(paths(await send(client, "move", 1)), [[1]]); // a missing argument is undefined
      assert.deepEqual(paths(await send(client, "measure", 5)), [[0]]);
      assert.deepEqual(paths(await send(client, "count", "4.5x")), [[0]]);
      assert.deepEqual(paths(await send(client, "nick", "taken")), [[0]]); // async (refine/checkAsync) or sync (narrow)
      assert.deepEqual(app.handled, []);
      assert.equal(app.errors.length, 8);
      assert.ok(app.errors.every((e) => e.code === "INVALID_PAYLOAD"));
    });

    test("extra arguments are invalid", async () => {
      const app = await start(schemas);
      const { client } = await connect(app);
      const answer = (await send(client, "move", 1, 2, 3)) as Refusal;
      assert.equal(answer.code, "INVALID_PAYLOAD");
      assert.deepEqual(answer.issues, [{ message: "Expected at most 2 argument(s), got 3", path: [2] }]);
      assert.deepEqual(paths(await send(client, "tick", "x")), [[0]]);
      assert.deepEqual(app.handled, []);
    });
  });
}

describe("validate", () => {
  test("without an ack an invalid event is dropped silently, and the handler does not run", async () => {
    const app = await start({ say: z.string(), sync: [] });
    const { client } = await connect(app);
    client.emit("say", 42);
    client.emit("say", "fine");
    assert.equal(await send(client, "sync"), "ok"); // events are handled in order
    assert.deepEqual(app.handled, [["say", "fine"], ["sync"]]);
  });

  test("async schemas keep the handler from running until they resolve", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const app = await start({
      slow: z.string().refine(async () => {
        await gate;
        return true;
      }),
    });
    const { client } = await connect(app);
    const answer = send(client, "slow", "x");
    assert.equal(await send(client, "other"), "ok"); // not gated: no schema
    assert.deepEqual(app.handled, [["other"]]);
    release();
    assert.equal(await answer, "ok");
    assert.deepEqual(app.handled, [["other"], ["slow", "x"]]);
  });

  test("unknownEvents: 'reject' refuses events without a schema with UNKNOWN_EVENT", async () => {
    const app = await start({ say: z.string() }, { unknownEvents: "reject" });
    const { client } = await connect(app);
    assert.deepEqual(await send(client, "other", 1), { code: "UNKNOWN_EVENT", message: "Unknown event" });
    assert.equal(await send(client, "say", "x"), "ok");
    assert.deepEqual(app.handled, [["say", "x"]]);
  });

  test("a schema that throws refuses the event, and error listeners get the cause", async () => {
    const app = await start({
      bad: z.string().transform(() => {
        throw new Error("schema bug");
      }),
    });
    const { client } = await connect(app);
    const answer = (await send(client, "bad", "x")) as Refusal;
    assert.equal(answer.code, "INVALID_PAYLOAD");
    assert.deepEqual(app.handled, []);
    assert.equal((app.errors[0]?.cause as Error | undefined)?.message, "schema bug");
  });

  test("issues are bounded: at most 20, each message cut at 200 characters", async () => {
    const app = await start({
      many: z.array(z.string()),
      long: z.string().refine(() => false, "x".repeat(1000)),
    });
    const { client } = await connect(app);
    const many = (await send(
      client,
      "many",
      Array.from({ length: 50 }, (_, i) => i),
    )) as Refusal;
    assert.equal(many.issues.length, 20);
    assert.deepEqual(many.issues[3]?.path, [0, 3]);
    const long = (await send(client, "long", "y")) as Refusal;
    assert.equal(long.issues[0]?.message.length, 201);
  });

  test("issues are bounded in bytes: path keys cut at 200 characters, at most 8 KiB of issues in all", async () => {
    const fields = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, z.string()]));
    // a path as deep as the payload, under keys that JSON escapes to 6 bytes a character
    let deep: z.ZodType = z.number();
    for (let i = 0; i < 10; i++) deep = z.record(z.string(), deep);
    const app = await start({
      many: z.record(z.string(), z.object(fields)),
      count: z.record(z.string(), z.number()),
      long: deep,
    });
    const { client } = await connect(app);
    const bytes = (issues: PayloadIssue[]): number => Buffer.byteLength(JSON.stringify(issues));

    // one client-chosen key of 400 KB, copied into each of the 20 issues' paths before
    const key = "k".repeat(400_000);
    const many = (await send(client, "many", { [key]: {} })) as Refusal;
    assert.equal(many.code, "INVALID_PAYLOAD");
    assert.ok(many.issues.length >= 1 && many.issues.length <= 20);
    assert.ok(bytes(many.issues) <= 8192, String(bytes(many.issues)));
    assert.deepEqual(many.issues[0]?.path, [0, `${"k".repeat(200)}…`, "f0"]);

    // 20 issues under keys that escape to 1.2 KB each do not fit: the first ones that do are sent, in order
    const wide = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`${i}`.padEnd(300, "\u0001"), "x"]));
    const cut = (await send(client, "count", wide)) as Refusal;
    assert.ok(cut.issues.length > 1 && cut.issues.length < 20, String(cut.issues.length));
    assert.ok(bytes(cut.issues) <= 8192, String(bytes(cut.issues)));
    cut.issues.forEach((issue, i) => {
      assert.equal(issue.path.length, 2);
      assert.equal(issue.path[1], `${String(i).padEnd(200, "\u0001")}…`);
    });

    // one issue whose path alone is over 8 KiB: it is still sent, its path cut short
    let payload: unknown = "not a number";
    const segment = "\u0001".repeat(300);
    for (let i = 0; i < 10; i++) payload = { [segment]: payload };
    const long = (await send(client, "long", payload)) as Refusal;
    assert.equal(long.issues.length, 1);
    assert.ok(bytes(long.issues) <= 8192, String(bytes(long.issues)));
    const path = long.issues[0]?.path ?? [];
    assert.ok(path.length > 1 && path.length < 11, String(path.length));
    assert.deepEqual(path.slice(1), Array(path.length - 1).fill(`${"\u0001".repeat(200)}…`));
    assert.deepEqual(app.handled, []);
  });

  test("a handler always gets an ack: one that does nothing when the client sent none", async () => {
    const schemas = { move: [v.number(), v.number()], sync: [] } as const;
    const s = await startIo();
    cleanups.push(() => s.close());
    const io = s.io as unknown as Server<EventsFromSchemas<typeof schemas>>;
    io.use(validate(schemas));
    const acks: string[] = [];
    io.on("connection", (socket) => {
      // the docs' example: with no ack from the client, `ack` is a no-op, not undefined
      socket.on("move", (x, y, ack) => {
        acks.push(typeof ack);
        ack(x + y);
      });
      socket.on("sync", (ack) => ack("synced"));
    });
    const client = s.client("/");
    await connected(client);
    assert.equal(await client.timeout(5000).emitWithAck("move", 1, 2), 3);
    client.emit("move", 3, 4); // no ack
    client.emit("sync"); // no ack either
    assert.equal(await client.timeout(5000).emitWithAck("sync"), "synced"); // in order: the ones before ran
    assert.deepEqual(acks, ["function", "function"]);
  });

  test("behind rateLimit: an invalid flood is limited too", async () => {
    const s = await startIo();
    cleanups.push(() => s.close());
    s.io.use(rateLimit({ perSocket: { burst: 2, perSecond: 0.001 }, disconnectAfter: false }));
    s.io.use(validate({ say: z.string() }));
    s.io.on("connection", (socket) => socket.on("say", (_text: string, ack: Ack) => ack("ok")));
    const client = s.client("/");
    await connected(client);
    assert.equal(((await send(client, "say", 1)) as Refusal).code, "INVALID_PAYLOAD");
    assert.equal(((await send(client, "say", 2)) as Refusal).code, "INVALID_PAYLOAD");
    assert.equal(((await send(client, "say", 3)) as Refusal).code, "RATE_LIMITED");
  });

  test("something that is not a Standard Schema throws INVALID_OPTION", () => {
    const invalid = (schemas: unknown, options?: ValidateOptions): void =>
      assert.throws(
        () => validate(schemas as EventSchemas, options),
        (err: unknown) => err instanceof TuttiError && err.code === "INVALID_OPTION",
      );
    invalid({ say: {} });
    invalid({ say: [z.string(), "number"] });
    invalid({ say: z.string() }, { unknownEvents: "drop" as "allow" });
  });
});

// ---- never called: compile-time checks only ----

/** Compile-time equality: `expectType<Equal<A, B>>(true)` fails to compile unless A and B are the same. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_ok: T): void {}

export function typedHandlers(): void {
  const schemas = {
    say: z.object({ text: z.string(), room: z.string().optional() }),
    move: [z.number(), v.number(), type("string")],
    measure: z.string().transform((s) => s.length),
    parsed: type("string.numeric.parse"),
    tick: [],
  } as const;

  type SayResult = { delivered: boolean };
  type Events = EventsFromSchemas<typeof schemas, { say: (result: SayResult) => void }>;
  const io = new Server<Events>();
  io.use(validate(schemas));

  io.on("connection", (socket) => {
    socket.on("say", (message, ack) => {
      expectType<Equal<typeof message, { text: string; room?: string | undefined }>>(true);
      ack({ delivered: true });
      // @ts-expect-error the ack of "say" is typed through the second parameter
      ack("delivered");
    });
    socket.on("move", (x, y, label, ack) => {
      expectType<Equal<typeof x, number>>(true);
      expectType<Equal<typeof y, number>>(true);
      expectType<Equal<typeof label, string>>(true);
      expectType<Equal<typeof ack, Ack>>(true);
    });
    socket.on("measure", (length) => {
      // the handler gets the transform's output, not the input
      expectType<Equal<typeof length, number>>(true);
    });
    socket.on("parsed", (n) => {
      expectType<Equal<typeof n, number>>(true);
    });
    socket.on("tick", (ack) => {
      expectType<Equal<typeof ack, Ack>>(true);
    });
    // @ts-expect-error "measure" gives a number
    socket.on("measure", (length: string) => length);
    // @ts-expect-error no such event in the schemas
    socket.on("nope", () => {});
  });

  // the guards fit a Server of any event maps and socket data
  const typed = new Server<Events, Events, Events, { claims: { sub: string } }>();
  typed.use(validate(schemas));
  typed.use(rateLimit());
  typed.of("/chat").use(validate({ x: z.string() }));
}
