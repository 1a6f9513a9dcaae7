export { IPC_TAG } from "./ipc-codec.js";
export {
  PrimaryHub,
  type PrimaryHubEvents,
  type PrimaryOptions,
  setupPrimary,
  type WorkerConnection,
  type WorkerLeaveReason,
  type WorkerPeer,
} from "./primary-hub.js";
export { type ClusterSupervisor, type RunClusterOptions, runCluster } from "./run-cluster.js";
export {
  createWorkerAdapter,
  processChannel,
  type WorkerAdapterOptions,
  WorkerBroker,
  type WorkerBrokerOptions,
  type WorkerChannel,
} from "./worker-broker.js";
