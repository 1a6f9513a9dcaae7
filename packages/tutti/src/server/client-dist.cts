// CommonJS (a .cts file) in both the source and the build: it needs `require` and no
// `import.meta`, which a CommonJS build cannot hold.
import fs = require("node:fs");
import nodeModule = require("node:module");
import path = require("node:path");

interface ClientDist {
  /** The folder of the browser bundles (socket.io-client's `dist/`). */
  readonly dir: string;
  readonly version: string;
}

/**
 * Finds the socket.io-client installed for Tutti (a dependency of "tutti") by walking the
 * folders `require` would search, so that the package's `exports` map need not list its
 * bundles or its package.json. Undefined when it is not there.
 */
function locateClientDist(): ClientDist | undefined {
  // a require of our own (not the one in scope, which tsx replaces when it runs the source)
  const ownRequire = nodeModule.createRequire(__filename);
  for (const folder of ownRequire.resolve.paths("socket.io-client") ?? []) {
    const root = path.join(folder, "socket.io-client");
    const manifest = path.join(root, "package.json");
    if (!fs.existsSync(manifest)) continue;
    try {
      const { version } = JSON.parse(fs.readFileSync(manifest, "utf8")) as { version?: unknown };
      return { dir: path.join(root, "dist"), version: typeof version === "string" ? version : "0" };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export = { locateClientDist };
