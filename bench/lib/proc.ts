import { readFileSync, writeFileSync } from "node:fs";

/** CPU time a process has used so far, in seconds, from /proc/<pid>/stat. */
export interface CpuTime {
  user: number;
  system: number;
}

/**
 * The kernel counts in clock ticks; USER_HZ is 100 on every Linux ABI Node runs on (`getconf
 * CLK_TCK`), so one tick is 10 ms and measured windows should last well over a second.
 */
const TICKS_PER_SECOND = 100;

export function readCpuTime(pid: number): CpuTime {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces and parentheses: count fields from its last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the name, index 0 is field 3 (state), so utime (field 14) is 11 and stime (15) is 12.
  return { user: Number(fields[11]) / TICKS_PER_SECOND, system: Number(fields[12]) / TICKS_PER_SECOND };
}

/**
 * Resets the process's peak resident set (VmHWM) to its current RSS (Linux 4.0 and later), so
 * that `readPeakRss` reports the peak of what follows.
 */
export function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}

/** The process's peak resident set since it started or since `resetPeakRss`, in bytes. */
export function readPeakRss(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmHWM:"));
  return Number(line?.split(/\s+/)[1]) * 1024;
}

export function cpuBetween(start: CpuTime, end: CpuTime): CpuTime {
  return { user: end.user - start.user, system: end.system - start.system };
}
