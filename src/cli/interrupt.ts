/**
 * Ctrl-C (SIGINT) and SIGTERM during a scan or a worker: the first one asks the command to stop cleanly
 * (take no new message, let the checks in flight record their result, say how to continue), a second one
 * ends the process at once. The exit code is the shell's: 128 + the signal number (130 for Ctrl-C, 143 for
 * SIGTERM).
 */
import { constants } from "node:os";

const SIGNALS = ["SIGINT", "SIGTERM"] as const;
export type StopSignal = (typeof SIGNALS)[number];

export interface Interrupts {
  /** Aborted on the first signal. */
  readonly signal: AbortSignal;
  /** The first signal received, if any. */
  received(): StopSignal | undefined;
  /** The exit code for the signal received (130, 143). */
  exitCode(): number;
  dispose(): void;
}

export function exitCodeForSignal(signal: StopSignal): number {
  return 128 + constants.signals[signal];
}

/**
 * Starts listening. `onFirst` runs on the first signal (a message: "stopping..."); a second signal exits with
 * the signal's code. Listening also keeps Node from ending the process on the signal by default, so a
 * command that does not dispose of this stops only when it decides to.
 */
export function catchInterrupts(onFirst: (signal: StopSignal) => void): Interrupts {
  const controller = new AbortController();
  let first: StopSignal | undefined;
  const handler = (signal: StopSignal) => {
    if (first) {
      process.exit(exitCodeForSignal(first));
    }
    first = signal;
    controller.abort(new Error(`stopped by ${signal}`));
    onFirst(signal);
  };
  for (const signal of SIGNALS) process.on(signal, handler);
  return {
    signal: controller.signal,
    received: () => first,
    exitCode: () => (first ? exitCodeForSignal(first) : 0),
    dispose: () => {
      for (const signal of SIGNALS) process.off(signal, handler);
    },
  };
}
