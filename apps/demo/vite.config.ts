import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// `npm run dev` serves web/ with hot reload and sends the socket and the API to a demo server on
// :3000 (`npm start`), which serves the built dist/ itself.
export default defineConfig({
  root: fileURLToPath(new URL("./web", import.meta.url)),
  build: {
    outDir: fileURLToPath(new URL("./dist", import.meta.url)),
    emptyOutDir: true,
  },
  server: {
    proxy: {
      "/socket.io": { target: "http://127.0.0.1:3000", ws: true },
      "/api": { target: "http://127.0.0.1:3000" },
    },
  },
});
