import { DisconnectReasons } from "../errors.js";
import type { Socket } from "../server/index.js";
import {
  type AnySocket,
  ackOf,
  asSocket,
  type Guard,
  guardDisconnect,
  onClaimsChanged,
  readData,
  refuseEvent,
} from "./guard.js";
import { GuardError, GuardMessages } from "./guard-error.js";
import type { JWTPayload } from "./jose-types.js";

export interface AuthorizeOptions<Claims = JWTPayload> {
  /** Where the claims are read from: `socket.data[claimsKey]`, read at each decision. Default "claims" (where `jwt` puts them). */
  claimsKey?: string;
  /**
   * Whether the socket may connect to the namespace. A refusal is a CONNECT_ERROR
   * `{message: "Access denied", data: {code: "ACCESS_DENIED"}}`. Default: every socket may.
   */
  connect?: (claims: Claims | undefined, socket: Socket) => boolean | Promise<boolean>;
  /**
   * Whether the socket may join `room`; becomes the socket's `joinPolicy`, so `socket.join()`
   * throws a `TuttiError` JOIN_NOT_ALLOWED for a refused room and `socket.canJoin(room)` asks
   * first. Synchronous, because `join()` is. Default: every room.
   */
  join?: (room: string, claims: Claims | undefined, socket: Socket) => boolean;
  /**
   * Whether the socket may emit `event` (`args` without the ack). A refused event never reaches
   * its handler, and its ack gets `{code: "ACCESS_DENIED", message}`. Default: every event.
   */
  emit?: (event: string, args: unknown[], claims: Claims | undefined, socket: Socket) => boolean | Promise<boolean>;
  /**
   * Whether a refresh of the claims (the `jwt` guard's `tutti:refresh`) asks `connect` again and
   * re-checks the socket's rooms against `join`. Set it to false when `connect` must run only
   * once per socket (it counts or reserves something). Default true.
   */
  recheckOnRefresh?: boolean;
}

/**
 * Authorization from the socket's claims: which namespaces it may connect to, which rooms it may
 * join and which events it may emit. Each predicate reads the claims anew, so a refreshed token
 * applies at once. When the `jwt` guard applies a refresh, `connect` is asked again (a refusal
 * disconnects the socket after `tutti:disconnect` ACCESS_DENIED) and every room the socket is
 * in is checked against `join` again (it leaves the ones now refused), unless
 * `recheckOnRefresh` is false. A predicate that throws or rejects refuses (fail closed).
 */
export function authorize<Claims = JWTPayload>(options: AuthorizeOptions<Claims>): Guard {
  const claimsKey = options.claimsKey ?? "claims";
  const { connect, join, emit } = options;
  const recheck = options.recheckOnRefresh ?? true;
  const claimsOf = (socket: Socket): Claims | undefined => readData(socket, claimsKey) as Claims | undefined;

  return (typed, next) => {
    const socket = asSocket(typed);
    const admit = (): void => {
      if (recheck && (connect !== undefined || join !== undefined)) recheckOnRefresh(socket);
      if (join !== undefined) {
        const previous = socket.joinPolicy;
        socket.joinPolicy = (room) => {
          if (previous !== undefined && !previous(room)) return false;
          try {
            return join(room, claimsOf(socket), socket) === true;
          } catch {
            return false;
          }
        };
      }
      if (emit !== undefined) {
        socket.use((event, nextEvent) => {
          const args = event.slice(1, ackOf(event) === undefined ? undefined : -1);
          decide(
            () => emit(String(event[0]), args, claimsOf(socket), socket),
            () => nextEvent(),
            (cause) =>
              refuseEvent(
                socket,
                event,
                nextEvent,
                { code: "ACCESS_DENIED", message: GuardMessages.ACCESS_DENIED },
                cause,
              ),
          );
        });
      }
      next();
    };
    if (connect === undefined) {
      admit();
      return;
    }
    decide(
      () => connect(claimsOf(socket), socket),
      admit,
      (cause) => next(GuardError.of("ACCESS_DENIED", undefined, cause === undefined ? undefined : { cause })),
    );
  };

  /** After a refresh: leave the rooms `join` now refuses, and disconnect if `connect` now refuses. */
  function recheckOnRefresh(socket: AnySocket): void {
    let latest = 0; // a slow async verdict on older claims never overrides a newer check
    onClaimsChanged(socket, async () => {
      const check = ++latest;
      if (join !== undefined) {
        const claims = claimsOf(socket);
        for (const room of [...socket.rooms]) {
          if (room === socket.id) continue;
          let allowed: boolean;
          try {
            allowed = join(room, claims, socket) === true;
          } catch {
            allowed = false;
          }
          if (!allowed) await socket.leave(room);
        }
      }
      if (connect === undefined) return;
      await new Promise<void>((done) => {
        decide(
          () => connect(claimsOf(socket), socket),
          done,
          (cause) => {
            if (check === latest && socket.connected) {
              guardDisconnect(
                socket,
                { code: "ACCESS_DENIED", message: GuardMessages.ACCESS_DENIED },
                DisconnectReasons.SERVER_NAMESPACE_DISCONNECT,
                { description: GuardError.of("ACCESS_DENIED", undefined, cause === undefined ? undefined : { cause }) },
              );
            }
            done();
          },
        );
      });
    });
  }
}

/**
 * Runs a sync or async predicate: `allow` only for `true`; `deny` for anything else, a throw or a
 * rejection (with it as cause). A sync answer is acted on in the same turn, so events keep their order.
 */
function decide(predicate: () => boolean | Promise<boolean>, allow: () => void, deny: (cause?: unknown) => void): void {
  let verdict: boolean | Promise<boolean>;
  try {
    verdict = predicate();
  } catch (err) {
    deny(err);
    return;
  }
  if (typeof verdict === "boolean") {
    if (verdict) allow();
    else deny();
    return;
  }
  Promise.resolve(verdict).then((ok) => (ok === true ? allow() : deny()), deny);
}
