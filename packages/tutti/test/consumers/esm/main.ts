// An ES module TypeScript project under module NodeNext, compiled by package.test.ts against the
// packed package with skipLibCheck false, then run.
import { createServer } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { io as connect } from "socket.io-client";
import tutti, { type Guard, jwt, Server, type ServerOptions } from "tutti";
import * as testing from "tutti/testing";

interface ClientToServer {
  hello: (name: string, ack: (reply: string) => void) => void;
}

function typeErrors(): void {
  // @ts-expect-error: connectTimeout is a number
  new Server(createServer(), { connectTimeout: "soon" });
}
void typeErrors;

const required = createRequire(import.meta.url)("tutti") as typeof tutti;
const options: Partial<ServerOptions> = { connectTimeout: 5000 };
const guard: Guard = jwt({ secret: "a secret of at least thirty-two bytes!" });
void guard;
const httpServer = createServer();
const io = new Server<ClientToServer>(httpServer, options);
io.on("connection", (socket) => socket.on("hello", (name, ack) => ack(`hi ${name}`)));
await new Promise<void>((resolve) => httpServer.listen(0, resolve));
const client = connect(`http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`, {
  transports: ["websocket"],
});
const reply: string = await client.timeout(5000).emitWithAck("hello", "ada");
client.close();
io.close();
console.log(
  JSON.stringify({
    reply,
    // one copy of each class whether the app imports or requires "tutti"
    sameServer: required.Server === Server && required === tutti,
    server: io instanceof required.Server,
    testing: typeof testing,
  }),
);
