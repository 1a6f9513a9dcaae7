import { existsSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createDemo, DIST_DIR } from "./demo-server.js";

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? "127.0.0.1";

if (!Number.isInteger(port) || port < 0 || port > 65535 || process.env.PORT?.trim() === "") {
  console.error(`PORT must be a port number from 0 to 65535, not ${JSON.stringify(process.env.PORT)}.`);
  process.exit(1);
}

if (!existsSync(join(DIST_DIR, "index.html"))) {
  console.error("The demo's front end is not built: run `npm run build` (or `npm start`) at the repository root.");
  process.exit(1);
}

const demo = await createDemo();
demo.server.on("error", (err: NodeJS.ErrnoException) => {
  console.error(err.code === "EADDRINUSE" ? `Port ${port} is in use: set PORT to another one.` : err);
  process.exit(1);
});
demo.server.listen(port, host, () => {
  const { port: bound } = demo.server.address() as AddressInfo;
  const shown = host === "127.0.0.1" || host === "0.0.0.0" || host === "::" ? "localhost" : host;
  console.log(`Tutti demo running at http://${shown}:${bound}`);
});

let stopping = false;
const stop = (): void => {
  if (stopping) process.exit(1); // a second Ctrl-C does not wait
  stopping = true;
  demo.close().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
