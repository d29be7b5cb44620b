/**
 * listAssociatedResources switched off (`associatedResourcesApi: "off"`, the admin route, the CLI flag): every
 * call answers what ARM answers once the api-versions that carry the action are retired, without spending the
 * tenant's 1-per-second budget; the other operations keep working.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IdentityTruth } from "../groundTruth.js";
import { IDENTITY_API_VERSIONS } from "../identityApi.js";
import type { RunningSimulator, SimulatorInfo } from "../index.js";
import { LIST_ASSOCIATED_API_VERSIONS } from "../listAssociatedResources.js";
import { startSimulator } from "../index.js";
import { clientFor, GET_API, listUrl, pathOf } from "./fixture.js";
import { SimClient } from "./httpsClient.js";

const REMAINING = IDENTITY_API_VERSIONS.filter((v) => !LIST_ASSOCIATED_API_VERSIONS.includes(v));

let sim: RunningSimulator;
let client: SimClient;
let used: IdentityTruth;

beforeAll(async () => {
  // The documented rate (1 per second): the refusals must not spend it.
  sim = await startSimulator({ identities: 30, seed: "api-off", rate: 1, associatedResourcesApi: "off" });
  client = clientFor(sim);
  used = sim.truth.tenants[0]!.identities.find((i) => i.associationCount > 3)!;
});

afterAll(async () => {
  client.close();
  await sim.close();
});

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** ARM's message; the location is the subscription's first one, whatever the generator drew. */
function retiredMessage(apiVersion: string): RegExp {
  return new RegExp(
    `^No registered resource provider found for location '[a-z0-9]+' and API version '${escape(apiVersion)}' for type 'userAssignedIdentities'\\. ` +
      `The supported api-versions are '${escape(REMAINING.join(", "))}'\\. The supported locations are '[a-z0-9, ]+'\\.$`,
  );
}

describe("listAssociatedResources switched off", () => {
  it("answers 400 NoRegisteredProviderFound for every api-version that had the action, listing the ones left", async () => {
    for (const apiVersion of LIST_ASSOCIATED_API_VERSIONS) {
      const response = await client.post(listUrl(used, "", apiVersion));
      expect(response.status).toBe(400);
      expect(Object.keys(response.body.error)).toEqual(["code", "message"]);
      expect(response.body.error.code).toBe("NoRegisteredProviderFound");
      expect(response.body.error.message).toMatch(retiredMessage(apiVersion));
      expect(response.headers["retry-after"]).toBeUndefined();
    }
  });

  it("answers 400 InvalidResourceType for the api-versions that never had it, and the unknown ones as before", async () => {
    const stable = await client.post(listUrl(used, "", "2023-01-31"));
    expect(stable.status).toBe(400);
    expect(stable.body.error).toEqual({
      code: "InvalidResourceType",
      message: "The resource type 'userAssignedIdentities/listAssociatedResources' could not be found in the namespace 'Microsoft.ManagedIdentity' for api version '2023-01-31'.",
    });
    expect((await client.post(listUrl(used, "", "2020-01-01"))).body.error.code).toBe("NoRegisteredProviderFound");
    expect((await client.post(`${pathOf(used)}/listAssociatedResources`)).body.error.code).toBe("MissingApiVersionParameter");
    // A nextLink's api-version (no "-preview") is retired as well.
    const next = await client.post(`${pathOf(used)}?skiptoken=x&api-version=2022-01-31`);
    expect(next.body.error.message).toMatch(retiredMessage("2022-01-31"));
  });

  it("refuses without spending the per-tenant rate, and is logged as listAssociatedResources", async () => {
    sim.clearRequestLog();
    const statuses = await Promise.all(Array.from({ length: 8 }, () => client.post(listUrl(used)).then((r) => r.status)));
    expect(statuses).toEqual(Array.from({ length: 8 }, () => 400));
    expect(sim.requestLog().filter((e) => e.operation === "listAssociatedResources")).toHaveLength(8);
  });

  it("leaves the identity GET, federated credentials and Resource Graph alone", async () => {
    expect((await client.get(`${pathOf(used)}?api-version=${GET_API}`)).status).toBe(200);
    expect((await client.get(`${pathOf(used)}/federatedIdentityCredentials?api-version=${GET_API}`)).status).toBe(200);
    expect((await client.get(`${pathOf(used)}?api-version=2022-01-31-preview`)).status).toBe(200);
  });

  it("switches on and off at run time", async () => {
    sim.setAssociatedResourcesApi("on");
    const on = await client.post(listUrl(used));
    expect(on.status).toBe(200);
    expect(on.body.totalCount).toBe(used.associationCount);

    sim.setAssociatedResourcesApi("off");
    expect((await client.post(listUrl(used))).body.error.code).toBe("NoRegisteredProviderFound");
    sim.setAssociatedResourcesApi("on");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await client.post(listUrl(used))).status).toBe(200);
    expect(() => sim.setAssociatedResourcesApi("maybe" as "on")).toThrow(TypeError);
    sim.setAssociatedResourcesApi("off");
  });

  it("keeps the 5,000-subscription error of large tenants while on", async () => {
    const large = await startSimulator({ identities: 2, seed: "api-off-large", subscriptionsPerTenant: 5001, rate: 100 });
    const largeClient = clientFor(large);
    try {
      const identity = large.truth.tenants[0]!.identities[0]!;
      expect((await largeClient.post(listUrl(identity))).body.error.code).toBe("TenantSubscriptionLimitExceeded");
      large.setAssociatedResourcesApi("off");
      expect((await largeClient.post(listUrl(identity))).body.error.code).toBe("NoRegisteredProviderFound");
    } finally {
      largeClient.close();
      await large.close();
    }
  });

  it("refuses a bad option with a TypeError naming it", async () => {
    await expect(startSimulator({ identities: 1, seed: 1, associatedResourcesApi: "no" as "off" })).rejects.toThrow(/associatedResourcesApi/);
    await expect(startSimulator({ identities: 1, seed: 1, hiddenUsageShare: 2 })).rejects.toThrow(/hiddenUsageShare/);
    await expect(startSimulator({ identities: 1, seed: 1, systemData: "yes" as unknown as boolean })).rejects.toThrow(/systemData/);
  });
});

describe("CLI flags", () => {
  it("--associated-resources-api off and --system-data reach the simulator; bad values exit 2", async () => {
    const root = join(import.meta.dirname, "..", "..");
    const child = spawn(join(root, "node_modules", ".bin", "tsx"), [
      join(root, "simulator", "cli.ts"),
      "--identities", "25", "--seed", "cli-flags", "--associated-resources-api", "off", "--system-data", "--hidden-usage-share", "0.2",
    ], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const info = JSON.parse(await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once("line", resolve))) as SimulatorInfo;
      const cliClient = new SimClient(info.endpoint, await readFile(info.caFile, "utf8"), info.tenants[0]!.token);
      try {
        const rows = await cliClient.post("/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01", {
          body: { query: "resources | where type =~ 'microsoft.managedidentity/userassignedidentities' | project id, subscriptionId, resourceGroup, name" },
        });
        const identity = rows.body.data[0] as { id: string };
        const path = identity.id.replace(/\/resourcegroups\//i, "/resourceGroups/");
        expect((await cliClient.post(`${path}/listAssociatedResources?api-version=2022-01-31-preview`)).body.error.code).toBe("NoRegisteredProviderFound");
        expect((await cliClient.get(`${path}?api-version=2023-01-31`)).body.systemData).toBeDefined();
      } finally {
        cliClient.close();
      }
      for (const args of [["--associated-resources-api", "maybe"], ["--hidden-usage-share", "2"]]) {
        const bad = spawn(join(root, "node_modules", ".bin", "tsx"), [join(root, "simulator", "cli.ts"), ...args], { cwd: root, stdio: "ignore" });
        expect(await new Promise((resolve) => bad.on("exit", resolve))).toBe(2);
      }
    } finally {
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
  });
});
