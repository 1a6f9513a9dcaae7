/**
 * The accept-queue length Tutti asks for when it creates and listens on a server itself
 * (`io.listen(port)`, `engine.listen(port)`). Node's default of 511 overflows in a reconnect
 * storm: connections past it are dropped and retried by the client's kernel after 1, 2, 4, ...
 * seconds, or reset, and clients fail. The kernel caps it at `net.core.somaxconn` (4096 on
 * current Linux); a queued connection costs the kernel a few hundred bytes. An app that creates
 * its own HTTP server passes its own backlog to `listen`.
 */
export const LISTEN_BACKLOG = 4096;
