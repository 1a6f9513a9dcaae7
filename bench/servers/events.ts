/**
 * The benchmark app, identical on every target:
 * - `join(room, ack)`: joins the room and acks with its name;
 * - `say(room, payload)`: broadcasts `msg(payload)` to the room, sender excluded;
 * - `echo(payload, ack)`: acks with the payload;
 * - a server-side publisher (driven over IPC) broadcasts `msg(payload)` to a room.
 */
export interface ClientToServer {
  join(room: string, ack: (room: string) => void): void;
  say(room: string, payload: string): void;
  echo(payload: unknown, ack: (payload: unknown) => void): void;
}

export interface ServerToClient {
  msg(payload: string): void;
}
