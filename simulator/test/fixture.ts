/**
 * Starting simulators for the conformance tests: generous rate and Resource Graph quota unless a test
 * is about those limits, so the suite stays fast.
 */
import { startSimulator, type RunningSimulator, type SimulatorOptions } from "../index.js";
import type { IdentityTruth } from "../groundTruth.js";
import { identityPath, SimClient } from "./httpsClient.js";

export const FAST: Partial<SimulatorOptions> = { rate: 10_000, argQuota: { limit: 100_000, windowMs: 5000 } };

export async function startFast(options: Partial<SimulatorOptions> & Pick<SimulatorOptions, "identities" | "seed">): Promise<RunningSimulator> {
  return startSimulator({ ...FAST, ...options });
}

export function clientFor(sim: RunningSimulator, tenant = 0, token?: string): SimClient {
  const info = sim.tenants[tenant];
  if (!info) throw new Error(`no tenant ${tenant}`);
  return new SimClient(sim.endpoint, sim.ca, token ?? info.token);
}

/** The identity's URL path as a client builds it from its Resource Graph row. */
export function pathOf(identity: IdentityTruth): string {
  return identityPath(identity.subscriptionId, identity.resourceGroupName, identity.name);
}

export const LIST_API = "2022-01-31-preview";
export const GET_API = "2023-01-31";
export const ARG_PATH = "/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01";

export function listUrl(identity: IdentityTruth, query = "", apiVersion = LIST_API): string {
  return `${pathOf(identity)}/listAssociatedResources?api-version=${apiVersion}${query ? `&${query}` : ""}`;
}
