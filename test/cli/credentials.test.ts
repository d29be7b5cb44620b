/**
 * Missing or wrong credentials are one sentence with the fix, within seconds: real `uami-audit scan`
 * processes run with an environment that holds no Azure credential. And a 403 on listAssociatedResources
 * names the permission it needs (against a local HTTPS server playing ARM).
 */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "../../simulator/index.js";
import { ArmError } from "../../src/arm/errors.js";
import { listAssociatedResourcesPage } from "../../src/arm/associatedResources.js";
import { credentialProblem, staticTokenProblem } from "../../src/cli/credentials.js";
import { uniquePrefix } from "../helpers/storage.js";
import { useArmTestServer } from "../arm/support/testServer.js";
import { cleanEnv, jsonLines, runCli } from "./cliProcess.js";

const TENANT = "4b1b7c53-0e6d-4c7b-9d0e-2f6a2d7f1c11";

function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ typ: "JWT", alg: "RS256" })}.${part(claims)}.c2lnbmF0dXJl`;
}

/** One line of text: a single sentence, no stack, no list of every credential tried. */
function oneLine(stderr: string): string {
  const lines = stderr.trim().split("\n");
  expect(lines, stderr).toHaveLength(1);
  return lines[0]!;
}

describe("uami-audit scan without usable credentials", () => {
  let sim: RunningSimulator;
  let hanging: net.Server;
  let hangingPort = 0;
  beforeAll(async () => {
    sim = await startSimulator({ identities: 3, seed: 5, rate: 20 });
    // A managed-identity endpoint that accepts connections and never answers (as an unreachable IMDS can).
    hanging = net.createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    hangingPort = (hanging.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    await sim?.close();
    hanging?.close();
  });

  const scanArgs = () => ["scan", "--tenant", TENANT, "--storage", process.env.UAMI_TEST_STORAGE!, "--prefix", uniquePrefix(), "--arm-endpoint", sim.endpoint, "--ca-file", sim.caFile];

  /** The same CLI process doing nothing but print its help: its start-up (tsx compiling every module), to subtract. */
  const startup = async () => (await runCli(["scan", "--help"], { env: cleanEnv() })).ms;

  it("no credential anywhere: one sentence naming `az login` and UAMI_ARM_TOKEN, exit 1, within seconds", async () => {
    const baseline = await startup();
    const result = await runCli(scanArgs(), { env: cleanEnv() });
    expect(result.code).toBe(1);
    const line = oneLine(result.stderr);
    expect(line).toMatch(/^error: No Azure credential is available .*: run `az login`, or set UAMI_ARM_TOKEN .*`--token -`\)\.$/);
    // Beyond the start-up, the credential check takes well under a second here (no Azurite, no run, no request).
    console.log(`no credential: ${result.ms} ms, of which start-up about ${baseline} ms`);
    expect(result.ms - baseline).toBeLessThan(6000);
  }, 60_000);

  it("a managed-identity endpoint that never answers: the same sentence after --credential-timeout, not minutes later", async () => {
    const env = cleanEnv({ IDENTITY_ENDPOINT: `http://127.0.0.1:${hangingPort}/msi/token`, IDENTITY_HEADER: "x" });
    const baseline = await startup();
    const result = await runCli([...scanArgs(), "--credential-timeout", "3", "--json"], { env });
    expect(result.code).toBe(1);
    expect(oneLine(result.stderr)).toMatch(/No Azure credential answered within 3 s .*`az login`.*UAMI_ARM_TOKEN/);
    expect(jsonLines(result)).toEqual([{ type: "error", message: expect.stringMatching(/within 3 s/), exitCode: 1 }]);
    // Without the timeout, DefaultAzureCredential waits on such an endpoint for minutes (over 3 measured here).
    console.log(`hanging managed identity: ${result.ms} ms, of which start-up about ${baseline} ms`);
    expect(result.ms - baseline).toBeLessThan(15_000);
  }, 60_000);

  it("an expired token: said before anything starts", async () => {
    const expired = jwt({ tid: TENANT, exp: Math.floor(Date.now() / 1000) - 3600 });
    const result = await runCli(scanArgs(), { env: cleanEnv({ UAMI_ARM_TOKEN: expired }) });
    expect(result.code).toBe(1);
    const line = oneLine(result.stderr);
    expect(line).toMatch(/The ARM token \(UAMI_ARM_TOKEN or --token\) expired at .*az account get-access-token.*az login/);
    expect(line).not.toContain(expired);
  }, 30_000);

  it("a token ARM refuses (401): one sentence with the fix, not the run's stack of errors", async () => {
    const result = await runCli([...scanArgs(), "--quiet"], { env: cleanEnv({ UAMI_ARM_TOKEN: "garbage-token-value" }) });
    expect(result.code).toBe(1);
    expect(oneLine(result.stderr)).toMatch(/^error: Azure Resource Manager refused the ARM token \(401 \w+\): get a fresh one with `az account get-access-token/);
    expect(result.stderr).not.toContain("garbage-token-value");
  }, 60_000);

  it("maps errors to the sentence through their causes", () => {
    const refused = new Error("Run x: Enumerating identities failed", { cause: new ArmError({ operation: "queryResourceGraph", status: 401, code: "ExpiredAuthenticationToken", armMessage: "expired" }) });
    expect(credentialProblem(refused, false)).toMatch(/refused the signed-in credential \(401 ExpiredAuthenticationToken\): run `az login` again/);
    const unavailable = Object.assign(new Error("ChainedTokenCredential authentication failed."), { name: "AggregateAuthenticationError" });
    expect(credentialProblem(new Error("wrapped", { cause: unavailable }), false)).toMatch(/No Azure credential is available/);
    expect(credentialProblem(new Error("something else"), false)).toBeUndefined();
    expect(staticTokenProblem("not-a-jwt")).toBeUndefined();
    expect(staticTokenProblem(jwt({ exp: Math.floor(Date.now() / 1000) + 600 }))).toBeUndefined();
  });
});

describe("a 403 on listAssociatedResources", () => {
  const TOKEN = "permission-token-5e1d2c";
  const IDENTITY = "/subscriptions/1cacb752-d7c9-463f-9731-fd31edada74a/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1";
  const arm = useArmTestServer(TOKEN);

  it("names the permission it needs, and the roles that lack it", async () => {
    arm.serve({ status: 403, body: { error: { code: "AuthorizationFailed", message: "The client does not have authorization to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/listAssociatedResources/action'." } } });
    const error = (await listAssociatedResourcesPage(arm.conn, IDENTITY).catch((e: unknown) => e)) as ArmError;
    expect(error).toBeInstanceOf(ArmError);
    expect(error.status).toBe(403);
    expect(error.message).toMatch(/the caller needs Microsoft\.ManagedIdentity\/userAssignedIdentities\/listAssociatedResources\/action, which Reader, Managed Identity Operator and Managed Identity Contributor do not grant/);
    expect(error.message).toContain("infra/tenant-access.bicep");
  });
});
