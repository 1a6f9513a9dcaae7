/**
 * Helpers for testing apps built on Tutti (the "tutti/testing" export): a fake clock to pass as
 * the server's `clock` option, so tests move time instead of sleeping.
 */

export { type AdapterContractOptions, adapterContract, type ContractCluster } from "./adapter-contract.js";
export { FakeClock, type FakeClockOptions } from "./fake-clock.js";
