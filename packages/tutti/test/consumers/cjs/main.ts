// A CommonJS TypeScript project (module commonjs, node10 resolution), compiled by package.test.ts
// against the packed package with skipLibCheck false, then run.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { io as connect } from "socket.io-client";

import tutti = require("tutti");

import defaultTutti, { type Guard, jwt, Server, type ServerOptions } from "tutti";

interface ClientToServer {
  hello: (name: string, ack: (reply: string) => void) => void;
}

function typeErrors(): void {
  // @ts-expect-error: connectTimeout is a number, so the callable is typed, not any
  tutti(createServer(), { connectTimeout: "soon" });
  // @ts-expect-error: not an export
  void tutti.NotAnExport;
}
void typeErrors;

async function main(): Promise<void> {
  const options: Partial<ServerOptions> = { connectTimeout: 5000 };
  const guard: Guard = jwt({ secret: "a secret of at least thirty-two bytes!" });
  void guard;
  const httpServer = createServer();
  const io: Server<ClientToServer> = tutti<ClientToServer>(httpServer, options);
  const types: tutti.ServerOptions = options;
  void types;
  io.on("connection", (socket) => socket.on("hello", (name, ack) => ack(`hi ${name}`)));
  await new Promise<void>((resolve) => httpServer.listen(0, resolve));
  const client = connect(`http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`, {
    transports: ["websocket"],
  });
  const reply: string = await client.timeout(5000).emitWithAck("hello", "ada");
  client.close();
  io.close();
  console.log(JSON.stringify({ reply, defaultIsCallable: defaultTutti === tutti, server: io instanceof Server }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
