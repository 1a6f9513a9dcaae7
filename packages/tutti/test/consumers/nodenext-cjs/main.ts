// A CommonJS TypeScript project under module NodeNext, compiled by package.test.ts against the
// packed package with skipLibCheck false, then run.
import type { AddressInfo } from "node:net";
import { io as connect } from "socket.io-client";

import tutti = require("tutti");

import type { Server } from "tutti";

import testing = require("tutti/testing");

interface ClientToServer {
  hello: (name: string, ack: (reply: string) => void) => void;
}

function typeErrors(): void {
  // @ts-expect-error: maxDepth is a number, so the callable is typed, not any
  tutti(0, { maxDepth: "deep" });
}
void typeErrors;

async function main(): Promise<void> {
  const io: Server<ClientToServer> = tutti<ClientToServer>(0);
  io.on("connection", (socket) => socket.on("hello", (name, ack) => ack(`hi ${name}`)));
  const httpServer = io.httpServer as import("node:http").Server;
  if (!httpServer.listening) await new Promise((resolve) => httpServer.once("listening", resolve));
  const client = connect(`http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`, {
    transports: ["websocket"],
  });
  const reply: string = await client.timeout(5000).emitWithAck("hello", "ada");
  client.close();
  io.close();
  console.log(JSON.stringify({ reply, server: io instanceof tutti.Server, testing: typeof testing }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
