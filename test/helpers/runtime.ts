import { InvocationContext, type LogLevel } from "@azure/functions";
import { createAuditDeps } from "../../src/audit/createAuditDeps.js";
import { loadConfig } from "../../src/config.js";
import type { AppRuntime } from "../../src/app/runtime.js";
import { ensureAuditStorage } from "../../src/store/auditStorage.js";
import { testStorageAccount, uniquePrefix } from "./storage.js";

export const TEST_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/** A runtime like the function app's, on Azurite with a unique prefix; ARM settings as given (the simulator). */
export async function testRuntime(env: Record<string, string> = {}, prefix = uniquePrefix()): Promise<AppRuntime> {
  const config = loadConfig({ UAMI_AUDIT_TENANT_ID: TEST_TENANT, UAMI_ARM_ENDPOINT: "https://127.0.0.1:9", ...env });
  const deps = createAuditDeps({ arm: config, limiter: config, storageAccount: testStorageAccount(), storagePrefix: prefix, associationsToStore: config.associationsToStore });
  await ensureAuditStorage(deps.storage);
  return { config, deps };
}

export interface CapturedContext {
  context: InvocationContext;
  logs: { level: LogLevel; text: string }[];
}

/** A real InvocationContext whose log lines are captured for assertions. */
export function capturingContext(functionName: string, triggerMetadata: Record<string, unknown> = {}): CapturedContext {
  const logs: { level: LogLevel; text: string }[] = [];
  const context = new InvocationContext({
    invocationId: `test-${Math.random().toString(16).slice(2)}`,
    functionName,
    triggerMetadata,
    logHandler: (level, ...args) => logs.push({ level, text: args.map(String).join(" ") }),
  });
  return { context, logs };
}
