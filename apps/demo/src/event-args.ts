/**
 * An event's request and ack as a client may send them: either can be missing, and an ack sent
 * without a request comes first. The ack returned does nothing when the client asked for none.
 */
export function requestAndAck<Reply>(request: unknown, ack: unknown): [unknown, (reply: Reply) => void] {
  if (typeof request === "function") return [undefined, request as (reply: Reply) => void];
  return [request, typeof ack === "function" ? (ack as (reply: Reply) => void) : () => {}];
}
