import { expect } from "vitest";

/**
 * What `promise` rejects with, asserted to be a `type`, for a test to look into (status, code, message).
 * A promise that resolves, or rejects with something else, fails the test.
 */
export async function rejectionOf<E>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  const outcome = await promise.then(
    (value: unknown) => ({ resolved: true as const, value }),
    (error: unknown) => ({ resolved: false as const, error }),
  );
  if (outcome.resolved) throw new Error(`expected a rejection with ${type.name}, but the promise resolved`);
  expect(outcome.error).toBeInstanceOf(type);
  return outcome.error as E;
}
