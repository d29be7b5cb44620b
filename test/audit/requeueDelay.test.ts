/**
 * The visibility delay of a throttled hand-back (checkIdentity.ts `requeueDelaySeconds`): a pure function
 * of the wait and a random draw, so it is tested over its whole input without waiting for a queue.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { requeueDelaySeconds } from "../../src/audit/checkIdentity.js";

const SEVEN_DAYS = 7 * 24 * 3600;
const ALMOST_ONE = 1 - Number.EPSILON;

describe("requeueDelaySeconds", () => {
  it.each([
    [0, 0, 0],
    [0, 0.5, 1],
    [1, 0, 1],
    [999, 0, 1],
    [1000, 0, 1],
    [1000, 0.001, 2],
    [3000, 0, 3],
    [3000, ALMOST_ONE, 4],
    [20_000, 0.25, 21],
    [SEVEN_DAYS * 1000, 0, SEVEN_DAYS - 1],
    [30 * SEVEN_DAYS * 1000, ALMOST_ONE, SEVEN_DAYS - 1],
  ])("waits %d ms with draw %d as %d s", (delayMs, random, seconds) => {
    expect(requeueDelaySeconds(delayMs, random)).toBe(seconds);
  });

  it("is whole seconds, never shorter than the wait, at most one second of jitter longer, and under 7 days", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 * SEVEN_DAYS * 1000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (delayMs, random) => {
        const seconds = requeueDelaySeconds(delayMs, random);
        expect(Number.isInteger(seconds)).toBe(true);
        expect(seconds).toBeLessThan(SEVEN_DAYS);
        if (delayMs < (SEVEN_DAYS - 1) * 1000) {
          expect(seconds * 1000).toBeGreaterThanOrEqual(delayMs);
          expect(seconds).toBeLessThanOrEqual(Math.ceil(delayMs / 1000) + 1);
        } else {
          expect(seconds).toBe(SEVEN_DAYS - 1);
        }
      }),
    );
  });

  it("grows with the wait and with the draw", () => {
    fc.assert(
      fc.property(fc.nat(SEVEN_DAYS * 1000), fc.nat(5000), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (delayMs, more, a, b) => {
        expect(requeueDelaySeconds(delayMs + more, a)).toBeGreaterThanOrEqual(requeueDelaySeconds(delayMs, a));
        expect(requeueDelaySeconds(delayMs, Math.max(a, b))).toBeGreaterThanOrEqual(requeueDelaySeconds(delayMs, Math.min(a, b)));
      }),
    );
  });

  it("spreads one burst of hand-backs over two seconds rather than one", () => {
    const draws = Array.from({ length: 100 }, (_, i) => i / 100);
    expect(new Set(draws.map((random) => requeueDelaySeconds(2500, random)))).toEqual(new Set([3, 4]));
    expect(new Set(draws.map((random) => requeueDelaySeconds(3000, random)))).toEqual(new Set([3, 4]));
  });
});
