/**
 * The check queue and its poison queue, one message at a time. The function app's `checkIdentity` and
 * `recordPoisonedCheck` run this, and so does the CLI's queue host (`scan`, `worker`): one behaviour, with
 * only the audit deps, so the CLI needs none of the app's settings.
 */
import type { InvocationContext } from "@azure/functions";
import { checkIdentity, recordPoisonedCheck } from "../audit/checkIdentity.js";
import { readQueueMessage } from "./queueMessages.js";
import { withInvocationLog, type AppRuntime } from "./runtime.js";

/** Where the audit deps come from: the app's runtime, or the CLI's own. */
export type DepsSource = () => Promise<Pick<AppRuntime, "deps">>;

/** How many times the host has delivered this message (1 the first time); the check uses it to know its last attempt. */
function dequeueCountOf(context: InvocationContext): number {
  const value = Number(context.triggerMetadata?.dequeueCount ?? 1);
  return Number.isFinite(value) && value >= 1 ? value : 1;
}

/** One identity: rate-limited check, result stored exactly once. Transient failures rethrow (queue retries). */
export async function handleCheckMessage(queueItem: unknown, context: InvocationContext, getRuntime: DepsSource): Promise<void> {
  const message = readQueueMessage(queueItem, context, "check");
  if (!message) return;
  const { deps } = await getRuntime();
  const outcome = await checkIdentity(withInvocationLog(deps, context), message, { dequeueCount: dequeueCountOf(context) });
  context.log(`Identity ${message.identityId} in run ${message.runId}: ${outcome.outcome}`);
}

/** Messages that failed every attempt: record the identity as `error` so reports say "not checked". */
export async function handlePoisonedCheckMessage(queueItem: unknown, context: InvocationContext, getRuntime: DepsSource): Promise<void> {
  const message = readQueueMessage(queueItem, context, "check");
  if (!message) return;
  const { deps } = await getRuntime();
  const outcome = await recordPoisonedCheck(withInvocationLog(deps, context), message);
  context.warn(`Poisoned check of ${message.identityId} in run ${message.runId}: ${outcome.outcome}`);
}
