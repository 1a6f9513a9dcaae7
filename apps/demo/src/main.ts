import { createDemo } from "./demo-server.js";

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? "127.0.0.1";
const { server, io } = createDemo();

server.listen(port, host, () => {
  console.log(`Tutti demo running at http://localhost:${port}`);
});

const stop = (): void => {
  io.close().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
