import { createDemo } from "./demo-server.js";

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? "127.0.0.1";
const { server, engine } = createDemo();

server.listen(port, host, () => {
  console.log(`Tutti demo running at http://localhost:${port}`);
});

const stop = (): void => {
  engine.close();
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
