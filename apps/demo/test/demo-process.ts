import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const DEMO_DIR = fileURLToPath(new URL("..", import.meta.url));

/** The demo as `npm start` runs it (src/main.ts in its own process), so a test can kill and restart it. */
export class DemoProcess {
  readonly port: number;
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess, port: number) {
    this.#child = child;
    this.port = port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the demo on `port` (0: any free port) and resolves once it prints its URL. */
  static async start(port = 0, env: Record<string, string> = {}): Promise<DemoProcess> {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: DEMO_DIR,
      env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const bound = await new Promise<number>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        const match = /Tutti demo running at http:\/\/\S+:(\d+)/.exec(output);
        if (match !== null) resolve(Number(match[1]));
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      child.once("error", reject);
      child.once("exit", (code, signal) => reject(new Error(`the demo exited (${code ?? signal}):\n${output}`)));
    });
    return new DemoProcess(child, bound);
  }

  /** Kills the process at once, as a crash would, and waits until it is gone. */
  async kill(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = once(this.#child, "exit");
    this.#child.kill("SIGKILL");
    await exited;
  }
}
