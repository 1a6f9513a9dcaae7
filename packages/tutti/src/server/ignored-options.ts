/**
 * Options of socket.io 4.8's `ServerOptions` and engine.io 6.6's `ServerOptions` that Tutti
 * accepts but does not act on, with what it does instead. An app moving over keeps its options
 * object as it is; each of these that it sets gets one warning at startup, so nothing it relies
 * on vanishes without a word. docs/socket-io-coverage.md lists the same options.
 */
export const IGNORED_OPTIONS: ReadonlyArray<{
  readonly name: string;
  /** Whether the app's value asks for something Tutti does not do (`allowEIO3: false` does not). */
  readonly ignored: (value: unknown) => boolean;
  readonly instead: string;
}> = [
  {
    name: "connectionStateRecovery",
    ignored: (value) => value !== undefined && value !== false,
    instead: "sessions are not recovered yet: socket.recovered stays false and clients reconnect as new sockets",
  },
  {
    name: "wsEngine",
    ignored: (value) => value !== undefined,
    instead: "WebSockets always run on the ws package",
  },
  {
    name: "initialPacket",
    ignored: (value) => value !== undefined,
    instead: "the handshake carries no initial packet",
  },
  {
    name: "allowEIO3",
    ignored: (value) => value === true,
    instead: "Engine.IO v3 clients (socket.io 2.x) are refused",
  },
  {
    // the cors package's per-request delegate `(req, callback)`: read as an object, it has no
    // `origin`, which would answer every origin
    name: "cors",
    ignored: (value) => typeof value === "function",
    instead:
      "a per-request function is not supported and reads as no options (every origin allowed); give an object, whose origin may be a function",
  },
  {
    name: "httpCompression",
    ignored: (value) =>
      typeof value === "object" && value !== null && Object.keys(value).some((key) => key !== "threshold"),
    instead: "only its threshold is used; zlib options (level, memLevel, ...) are not",
  },
];

/** The warning code of an ignored option (`process.on("warning", (w) => w.code)`). */
export const IGNORED_OPTION_WARNING = "TUTTI_IGNORED_OPTION";

/**
 * Emits one process warning (type "TuttiWarning", code TUTTI_IGNORED_OPTION) per ignored
 * option set in `opts` and not in `warned`, and adds it to `warned`.
 */
export function warnIgnoredOptions(opts: object, warned: Set<string>): void {
  for (const option of IGNORED_OPTIONS) {
    if (warned.has(option.name) || !option.ignored((opts as Record<string, unknown>)[option.name])) continue;
    warned.add(option.name);
    process.emitWarning(`the option "${option.name}" is accepted but not acted on: ${option.instead}`, {
      type: "TuttiWarning",
      code: IGNORED_OPTION_WARNING,
    });
  }
}
