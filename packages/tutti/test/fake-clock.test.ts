/** FakeClock, the clock tests pass to a server so that they move time instead of sleeping. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FakeClock } from "../src/testing/index.js";

describe("FakeClock", () => {
  test("now() and date() start where told and move only with advance()", () => {
    const clock = new FakeClock({ now: 100, date: 1_700_000_000_000 });
    assert.equal(clock.now(), 100);
    assert.equal(clock.date(), 1_700_000_000_000);
    assert.equal(clock.advance(250), 0);
    assert.equal(clock.now(), 350);
    assert.equal(clock.date(), 1_700_000_000_250);
    const real = Date.now();
    const byDefault = new FakeClock();
    assert.equal(byDefault.now(), 0);
    assert.ok(byDefault.date() >= real && byDefault.date() <= Date.now());
  });

  test("advance() fires due timers in due order, each seeing its own due time; later ones wait", () => {
    const clock = new FakeClock();
    const fired: Array<[string, number]> = [];
    clock.setTimeout(() => fired.push(["c", clock.now()]), 30);
    clock.setTimeout(() => fired.push(["a", clock.now()]), 10);
    clock.setTimeout(() => fired.push(["b", clock.now()]), 20);
    clock.setTimeout(() => fired.push(["late", clock.now()]), 31);
    assert.equal(clock.pending, 4);
    assert.equal(clock.nextIn, 10);
    assert.equal(clock.advance(9), 0);
    assert.deepEqual(fired, []);
    assert.equal(clock.advance(21), 3);
    assert.deepEqual(fired, [
      ["a", 10],
      ["b", 20],
      ["c", 30],
    ]);
    assert.equal(clock.now(), 30);
    assert.equal(clock.pending, 1);
    assert.equal(clock.nextIn, 1);
  });

  test("timers due at the same time fire in the order they were set", () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    for (let i = 0; i < 5; i++) clock.setTimeout(() => fired.push(i), 10);
    clock.setTimeout(() => fired.push(-1), 5);
    clock.advance(10);
    assert.deepEqual(fired, [-1, 0, 1, 2, 3, 4]);
  });

  test("a timer set while advancing fires in the same advance when it falls due within it", () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    const tick = (): void => {
      fired.push(clock.now());
      clock.setTimeout(tick, 10);
    };
    clock.setTimeout(tick, 10);
    assert.equal(clock.advance(35), 3);
    assert.deepEqual(fired, [10, 20, 30]);
    assert.equal(clock.pending, 1);
    assert.equal(clock.nextIn, 5);
  });

  test("clearTimeout cancels, also from a callback firing in the same advance; undefined and spent timers are ignored", () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    const cleared = clock.setTimeout(() => fired.push("cleared"), 10);
    const second = clock.setTimeout(() => fired.push("second"), 20);
    const first = clock.setTimeout(() => {
      fired.push("first");
      clock.clearTimeout(second);
    }, 15);
    clock.clearTimeout(cleared);
    clock.clearTimeout(undefined);
    assert.equal(clock.pending, 2);
    clock.advance(100);
    clock.clearTimeout(first);
    assert.deepEqual(fired, ["first"]);
    assert.equal(clock.pending, 0);
  });

  test("delays outside 1..2^31-1 become 1 ms, as with Node's timers", () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push("zero"), 0);
    clock.setTimeout(() => fired.push("negative"), -5);
    clock.setTimeout(() => fired.push("NaN"), Number.NaN);
    clock.setTimeout(() => fired.push("huge"), 2 ** 31);
    assert.equal(clock.nextIn, 1);
    clock.advance(0);
    assert.deepEqual(fired, []);
    clock.advance(1);
    assert.deepEqual(fired, ["zero", "negative", "NaN", "huge"]);
  });

  test("next() jumps to the next timer alone; runAll() fires them all, and stops a timer that never ends", () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(1), 100);
    clock.setTimeout(() => fired.push(2), 200);
    assert.equal(clock.next(), true);
    assert.deepEqual(fired, [1]);
    assert.equal(clock.now(), 100);
    clock.setTimeout(() => fired.push(3), 50);
    assert.equal(clock.runAll(), 2);
    assert.deepEqual(fired, [1, 3, 2]);
    assert.equal(clock.now(), 200);
    assert.equal(clock.next(), false);

    const forever = (): void => {
      clock.setTimeout(forever, 1);
    };
    clock.setTimeout(forever, 1);
    assert.throws(() => clock.runAll(50), /still 1 timers pending after 50 fired/);
  });

  test("a callback that throws stops the advance at its time; the timers still due fire on the next one", () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    clock.setTimeout(() => {
      throw new Error("boom");
    }, 10);
    clock.setTimeout(() => fired.push("after"), 20);
    assert.throws(() => clock.advance(30), /boom/);
    assert.equal(clock.now(), 10);
    assert.deepEqual(fired, []);
    clock.advance(20);
    assert.deepEqual(fired, ["after"]);
    assert.equal(clock.now(), 30);
  });

  test("advance() takes finite, non-negative spans only", () => {
    const clock = new FakeClock();
    assert.throws(() => clock.advance(-1), RangeError);
    assert.throws(() => clock.advance(Number.POSITIVE_INFINITY), RangeError);
    assert.throws(() => clock.advance(Number.NaN), RangeError);
  });
});
