import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  CloseReasons,
  ConnectErrorMessages,
  DisconnectReasons,
  ErrorCodes,
  type ErrorSpec,
  GuardCodes,
} from "../src/index.js";

const doc = readFileSync(new URL("../../../docs/errors.md", import.meta.url), "utf8");

/** Rows of the markdown table that follows `heading`. */
function tableRows(heading: string): string[][] {
  const section = doc.split(/^## /m).find((s) => s.startsWith(heading));
  if (section === undefined) throw new Error(`docs/errors.md has no "## ${heading}" section`);
  return section
    .split("\n")
    .filter((line) => line.startsWith("|"))
    .slice(2)
    .map((line) =>
      line
        .slice(1, -1)
        .split("|")
        .map((cell) => cell.trim()),
    );
}

test("every error code is documented with its status, engine code and message, and nothing else is", () => {
  const rows = tableRows("Error codes");
  const documented = new Map(rows.map((r) => [(r[0] as string).replaceAll("`", ""), r]));
  assert.deepEqual([...documented.keys()].sort(), Object.keys(ErrorCodes).sort());
  for (const [code, raw] of Object.entries(ErrorCodes)) {
    const spec: ErrorSpec = raw;
    const [, status, engineCode, message] = documented.get(code) as string[];
    assert.equal(status, spec.status === undefined ? "" : String(spec.status), `${code} status`);
    const expectedEngine = spec.engineCode ?? (spec.status === undefined ? undefined : 3);
    assert.equal(engineCode, expectedEngine === undefined ? "" : String(expectedEngine), `${code} engine code`);
    assert.equal(message, spec.message, `${code} message`);
  }
});

test("every close reason is documented, and nothing else is", () => {
  const rows = tableRows("Close reasons");
  const documented = rows.map((r) => (r[0] as string).replaceAll("`", "")).sort();
  assert.deepEqual(documented, Object.values(CloseReasons).sort());
});

test("every disconnect reason is documented, and nothing else is", () => {
  const documented = tableRows("Disconnect reasons")
    .map((r) => (r[0] as string).replaceAll("`", ""))
    .sort();
  assert.deepEqual(documented, Object.values(DisconnectReasons).sort());
});

test("every connect error message the server sends is documented, and nothing else is", () => {
  const documented = tableRows("Connect errors")
    .map((r) => (r[0] as string).replaceAll("`", ""))
    .sort();
  assert.deepEqual(documented, Object.values(ConnectErrorMessages).sort());
});

test("every guard code is documented with its meaning, and nothing else is", () => {
  const rows = tableRows("Guard codes");
  const documented = new Map(rows.map((r) => [(r[0] as string).replaceAll("`", ""), r[1]]));
  assert.deepEqual([...documented.keys()].sort(), Object.keys(GuardCodes).sort());
  for (const [code, meaning] of Object.entries(GuardCodes)) assert.equal(documented.get(code), meaning, code);
});
