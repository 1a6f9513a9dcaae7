import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { Event } from "../server/index.js";
import { type AnySocket, ackOf, asSocket, type Guard, invalidOption, refuseEvent } from "./guard.js";
import { GuardMessages, type PayloadIssue } from "./guard-error.js";

/**
 * The schema of one event: a Standard Schema (zod, valibot, arktype, ...) for an event with one
 * argument, or an array of them, one per argument (`[]` for an event with none).
 */
export type EventSchema = StandardSchemaV1 | readonly StandardSchemaV1[];

/** Event name → its schema. Declare it `as const` so that arrays stay tuples for `EventsFromSchemas`. */
export type EventSchemas = Readonly<Record<string, EventSchema>>;

export interface ValidateOptions {
  /**
   * What happens to an event that has no schema: "allow" lets it through unchecked, "reject"
   * refuses it with UNKNOWN_EVENT. Default "allow".
   */
  unknownEvents?: "allow" | "reject";
}

/**
 * An ack function as the handlers of `EventsFromSchemas` see it, unless typed through `Acks`.
 * Always a function: when the client sent no ack, `validate` passes one that does nothing.
 */
export type Ack = (...response: unknown[]) => void;

type Output<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : never;

/** The handler arguments that an event schema produces (the schemas' outputs). */
export type ArgsFromSchema<S extends EventSchema> = S extends StandardSchemaV1
  ? [Output<S>]
  : S extends readonly StandardSchemaV1[]
    ? { -readonly [K in keyof S]: Output<S[K]> }
    : never;

/**
 * The event map (for `Server<ListenEvents>`) whose handlers get each schema's output, then the
 * ack. `Acks` types the ack of any event: `EventsFromSchemas<typeof schemas, {say: (r: Res) => void}>`.
 */
export type EventsFromSchemas<
  T extends EventSchemas,
  Acks extends { [K in keyof T]?: (...response: never[]) => void } = Record<never, never>,
> = {
  -readonly [K in keyof T & string]: (
    ...args: [...ArgsFromSchema<T[K]>, ack: K extends keyof Acks ? NonNullable<Acks[K]> : Ack]
  ) => void;
};

/**
 * At most this many issues go back to the client, each message and each string path segment cut
 * to `MAX_ISSUE_STRING` characters, and no more of them than fit in `MAX_ISSUES_BYTES` of JSON.
 */
const MAX_ISSUES = 20;
const MAX_ISSUE_STRING = 200;
const MAX_ISSUES_BYTES = 8192;

/** The ack a handler gets when the client sent none: the types promise a function. */
const noAck = (): void => {};

type Result = StandardSchemaV1.Result<unknown>;

/**
 * Validates each event's arguments against its schema before any handler runs. An invalid
 * event never reaches its handler; its ack gets `{code: "INVALID_PAYLOAD", message, issues}`.
 * A valid event reaches its handler with the schemas' outputs (transforms and coercions
 * applied), then an ack: the client's, or one that does nothing when it sent none. Extra
 * arguments are invalid; missing ones are validated as `undefined`. Async schemas are awaited;
 * sync ones are checked in the same turn, so events stay in order.
 */
export function validate<const T extends EventSchemas>(schemas: T, options: ValidateOptions = {}): Guard {
  const table = new Map<string, readonly StandardSchemaV1[]>();
  for (const [name, schema] of Object.entries(schemas)) {
    const list: readonly StandardSchemaV1[] = Array.isArray(schema) ? schema : [schema as StandardSchemaV1];
    for (const s of list) {
      if (typeof s?.["~standard"]?.validate !== "function") {
        throw invalidOption("validate", `the schema of ${JSON.stringify(name)} is not a Standard Schema`);
      }
    }
    table.set(name, list);
  }
  const unknownEvents = options.unknownEvents ?? "allow";
  if (unknownEvents !== "allow" && unknownEvents !== "reject") {
    throw invalidOption("validate", `unknownEvents must be "allow" or "reject"`);
  }

  return (typed, next) => {
    const socket = asSocket(typed);
    socket.use((event, nextEvent) => check(socket, event, nextEvent));
    next();
  };

  function check(socket: AnySocket, event: Event, next: (err?: Error) => void): void {
    const list = table.get(String(event[0]));
    if (list === undefined) {
      if (unknownEvents === "allow") next();
      else refuseEvent(socket, event, next, { code: "UNKNOWN_EVENT", message: GuardMessages.UNKNOWN_EVENT });
      return;
    }
    const ack = ackOf(event);
    const args = event.slice(1, ack === undefined ? undefined : -1);
    if (args.length > list.length) {
      const issue = { message: `Expected at most ${list.length} argument(s), got ${args.length}`, path: [list.length] };
      refuseEvent(socket, event, next, {
        code: "INVALID_PAYLOAD",
        message: GuardMessages.INVALID_PAYLOAD,
        issues: [issue],
      });
      return;
    }
    let results: (Result | Promise<Result>)[];
    try {
      results = list.map((schema, i) => schema["~standard"].validate(args[i]));
    } catch (err) {
      fail(err);
      return;
    }
    if (results.some(isThenable)) {
      Promise.all(results).then(finish, fail);
    } else {
      finish(results as Result[]);
    }

    function finish(done: Result[]): void {
      const issues: StandardSchemaV1.Issue[][] = done.map((result) => [...(result.issues ?? [])]);
      if (issues.some((list) => list.length > 0)) {
        refuseEvent(socket, event, next, {
          code: "INVALID_PAYLOAD",
          message: GuardMessages.INVALID_PAYLOAD,
          issues: boundedIssues(issues),
        });
        return;
      }
      // the handler gets exactly one value per schema, then an ack (a no-op when the client sent
      // none): the positions and the function its types promise
      event.length = 1;
      for (const result of done) event.push((result as StandardSchemaV1.SuccessResult<unknown>).value);
      event.push(ack ?? noAck);
      next();
    }

    // a schema that throws is the app's bug: the event is refused, and the error goes to "error" listeners
    function fail(err: unknown): void {
      refuseEvent(
        socket,
        event,
        next,
        { code: "INVALID_PAYLOAD", message: GuardMessages.INVALID_PAYLOAD, issues: [] },
        err,
      );
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/**
 * The issues sent to the client, in order: at most `MAX_ISSUES`, strings cut, and only as many
 * as fit in `MAX_ISSUES_BYTES` of JSON. The first issue is always sent, its path cut short if it
 * alone would not fit. `byArgument[i]` are the issues of argument `i`.
 */
function boundedIssues(byArgument: readonly StandardSchemaV1.Issue[][]): PayloadIssue[] {
  const out: PayloadIssue[] = [];
  let bytes = 2; // []
  for (const [argument, list] of byArgument.entries()) {
    for (const issue of list) {
      if (out.length === MAX_ISSUES) return out;
      const message = cut(String(issue.message));
      const comma = out.length === 0 ? 0 : 1;
      // {"message":…,"path":[argument]}, then each segment and its comma
      let size = comma + jsonBytes({ message, path: [argument] });
      const path: (string | number)[] = [argument];
      let complete = true;
      for (const raw of issue.path ?? []) {
        const segment = pathSegment(raw);
        const segmentSize = 1 + jsonBytes(segment);
        if (bytes + size + segmentSize > MAX_ISSUES_BYTES) {
          complete = false;
          break;
        }
        size += segmentSize;
        path.push(segment);
      }
      if (out.length > 0 && (!complete || bytes + size > MAX_ISSUES_BYTES)) return out;
      out.push({ message, path });
      bytes += size;
    }
  }
  return out;
}

function pathSegment(segment: PropertyKey | StandardSchemaV1.PathSegment): string | number {
  const key = typeof segment === "object" && segment !== null ? segment.key : segment;
  if (typeof key === "number") return key;
  return cut(typeof key === "symbol" ? (key.description ?? "") : String(key));
}

function cut(text: string): string {
  return text.length > MAX_ISSUE_STRING ? `${text.slice(0, MAX_ISSUE_STRING)}…` : text;
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}
