/** TokenBucket on a fake clock: no sleeping. */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { TokenBucket, TuttiError } from "../src/index.js";

function clocked(burst: number, perSecond: number) {
  const clock = { now: 1000 };
  return { clock, bucket: new TokenBucket({ burst, perSecond }, () => clock.now) };
}

test("starts full, takes one token per call, refuses when empty without taking", () => {
  const { bucket } = clocked(3, 1);
  assert.equal(bucket.tokens, 3);
  assert.equal(bucket.tryTake(), true);
  assert.equal(bucket.tryTake(), true);
  assert.equal(bucket.tryTake(), true);
  assert.equal(bucket.tryTake(), false);
  assert.equal(bucket.tokens, 0);
});

test("refills at perSecond, never past burst", () => {
  const { clock, bucket } = clocked(2, 4);
  bucket.tryTake();
  bucket.tryTake();
  clock.now += 125;
  assert.equal(bucket.tokens, 0.5);
  assert.equal(bucket.tryTake(), false);
  assert.equal(bucket.msUntil(), 125);
  clock.now += 125;
  assert.equal(bucket.tryTake(), true);
  clock.now += 10_000;
  assert.equal(bucket.tokens, 2);
});

test("msUntil: 0 when available, the wait otherwise, Infinity past the burst", () => {
  const { bucket } = clocked(2, 0.5);
  assert.equal(bucket.msUntil(), 0);
  bucket.tryTake(2);
  assert.equal(bucket.msUntil(), 2000);
  assert.equal(bucket.msUntil(2), 4000);
  assert.equal(bucket.msUntil(3), Number.POSITIVE_INFINITY);
  assert.equal(bucket.tryTake(3), false);
});

test("a clock that goes back adds nothing", () => {
  const { clock, bucket } = clocked(1, 1);
  bucket.tryTake();
  clock.now -= 5000;
  assert.equal(bucket.tokens, 0);
  clock.now += 5000 + 1000;
  assert.equal(bucket.tokens, 1);
});

test("invalid options throw INVALID_OPTION", () => {
  for (const options of [
    { burst: 0, perSecond: 1 },
    { burst: 2.5, perSecond: 1 },
    { burst: Number.NaN, perSecond: 1 },
    { burst: 1, perSecond: 0 },
    { burst: 1, perSecond: -1 },
    { burst: 1, perSecond: Number.NaN },
  ]) {
    assert.throws(
      () => new TokenBucket(options, () => 0),
      (err: unknown) => err instanceof TuttiError && err.code === "INVALID_OPTION",
      JSON.stringify(options),
    );
  }
});

test("property: over any schedule, accepted events never exceed burst + perSecond * elapsed", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 50 }),
      fc.double({ min: 0.01, max: 100, noNaN: true }),
      fc.array(fc.integer({ min: 0, max: 2000 }), { maxLength: 200 }),
      (burst, perSecond, steps) => {
        const { clock, bucket } = clocked(burst, perSecond);
        const start = clock.now;
        let accepted = 0;
        for (const step of steps) {
          clock.now += step;
          if (bucket.tryTake()) accepted++;
          const tokens = bucket.tokens;
          assert.ok(tokens >= 0 && tokens <= burst, `tokens ${tokens}`);
        }
        const bound = burst + (perSecond * (clock.now - start)) / 1000;
        assert.ok(accepted <= bound + 1e-9, `${accepted} > ${bound}`);
      },
    ),
  );
});

test("property: an event refused with msUntil() = w is accepted after waiting w", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20 }),
      fc.double({ min: 0.01, max: 50, noNaN: true }),
      fc.integer({ min: 0, max: 40 }),
      (burst, perSecond, taken) => {
        const { clock, bucket } = clocked(burst, perSecond);
        for (let i = 0; i < taken; i++) bucket.tryTake();
        const wait = bucket.msUntil();
        clock.now += wait;
        assert.equal(bucket.tryTake(), true);
      },
    ),
  );
});
