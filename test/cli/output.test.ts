/**
 * What `uami-audit scan` writes for a pipeline: `--json` lines on standard output, plain progress lines (no
 * terminal escapes) when standard error is not a terminal, and the exit codes 0, 1, 2 and 3. Real CLI
 * processes against the simulator and the test Azurite.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "../../simulator/index.js";
import { uniquePrefix } from "../helpers/storage.js";
import { cleanEnv, jsonLines, runCli } from "./cliProcess.js";

const ESCAPE = new RegExp(`${String.fromCharCode(27)}\\[`);
const LINE_TYPES = ["run", "progress", "warning", "interrupted", "result", "error"];

describe("scan output for pipelines", () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ identities: 20, seed: 77, rate: 50, tenants: 3 });
  });
  afterAll(() => sim?.close());

  const scan = (tenant: number, extra: string[]) => {
    const t = sim.tenants[tenant]!;
    return runCli(
      ["scan", "--tenant", t.tenantId, "--arm-endpoint", sim.endpoint, "--ca-file", sim.caFile, "--storage", process.env.UAMI_TEST_STORAGE!, "--prefix", uniquePrefix(), "--rate", "20", ...extra],
      { env: cleanEnv({ UAMI_ARM_TOKEN: t.token }) },
    );
  };

  it("--json: one JSON object per line on standard output, from the run to its result; --fail-on-findings exits 3", async () => {
    const result = await scan(0, ["--json", "--fail-on-findings"]);
    const unused = sim.truth.tenants[0]!.identities.some((i) => i.associationCount === 0);
    expect(unused).toBe(true);
    expect(result.code, result.stderr).toBe(3);
    const lines = jsonLines(result);
    for (const line of lines) expect(LINE_TYPES).toContain(line.type);
    expect(lines[0]).toMatchObject({ type: "run", tenantId: sim.tenants[0]!.tenantId, resumed: false, storage: "given", status: "enumerating" });
    const progress = lines.filter((line) => line.type === "progress");
    expect(progress.length).toBeGreaterThan(0);
    for (const line of progress) expect(Object.keys(line)).toEqual(expect.arrayContaining(["runId", "status", "phase", "expected", "accounted", "apiRequests"]));
    const result_ = lines.at(-1)!;
    expect(result_).toMatchObject({ type: "result", command: "scan", status: "complete", expected: 20, accounted: 20, exitCode: 3 });
    expect(result_.unused).toBeGreaterThan(0);
    expect((result_.countsByVerdict as Record<string, number>).unused).toBe(result_.unused);
    // Standard error carries no progress in --json mode, and nothing is an escape sequence.
    expect(result.stderr).not.toMatch(ESCAPE);
    expect(result.stderr).not.toMatch(/checks:/);
  }, 120_000);

  it("not a terminal: plain progress lines on standard error, no escape sequences; exit 0 without --fail-on-findings", async () => {
    const result = await scan(1, []);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.join("")).toBe("");
    expect(result.stderr).not.toMatch(ESCAPE);
    const lines = result.stderr.trim().split("\n");
    expect(lines.some((line) => /^run \S+: listing identities/.test(line))).toBe(true);
    expect(lines.some((line) => /^run \S+: complete: 20\/20/.test(line))).toBe(true);
    expect(lines.some((line) => /^Run \S+ complete \(fast mode\)/.test(line))).toBe(true);
    expect(lines.some((line) => /^Verdicts: /.test(line))).toBe(true);
  }, 120_000);

  it("bad usage is exit 2, with a JSON error line under --json; a failed run is exit 1", async () => {
    const usage = await runCli(["scan", "--json", "--tenant", "not-a-guid"], { env: cleanEnv() });
    expect(usage.code).toBe(2);
    expect(jsonLines(usage)).toEqual([{ type: "error", message: expect.stringMatching(/tenant "not-a-guid" is not a GUID/), exitCode: 2 }]);
    const resumeWithoutStorage = await runCli(["scan", "--tenant", sim.tenants[2]!.tenantId, "--resume"], { env: cleanEnv({ UAMI_ARM_TOKEN: sim.tenants[2]!.token }) });
    expect(resumeWithoutStorage.code).toBe(2);
    expect(resumeWithoutStorage.stderr).toMatch(/--resume needs --storage/);

    // A token ARM refuses: enumeration fails, the run fails: exit 1, the last line an error.
    const failed = await runCli(
      ["scan", "--json", "--tenant", sim.tenants[2]!.tenantId, "--arm-endpoint", sim.endpoint, "--ca-file", sim.caFile, "--storage", process.env.UAMI_TEST_STORAGE!, "--prefix", uniquePrefix()],
      { env: cleanEnv({ UAMI_ARM_TOKEN: "not-a-token-the-simulator-issued" }) },
    );
    expect(failed.code, failed.stderr).toBe(1);
    expect(jsonLines(failed).at(-1)).toMatchObject({ type: "error", exitCode: 1 });
  }, 180_000);

  it("a 403 on the checks names the permission to grant, once for all the identities it hit", async () => {
    const tenant = sim.tenants[2]!;
    const victims = sim.truth.tenants[2]!.identities.slice(0, 2);
    for (const victim of victims) sim.failIdentity(victim.id, 403);
    try {
      const result = await scan(2, ["--mode", "exhaustive"]);
      expect(result.code, result.stderr).toBe(0);
      // The first request of a check to fail names its permission: listAssociatedResources/action (or the identity's read).
      expect(result.stderr).toMatch(
        /\n2 identities could not be checked: (listAssociatedResources|getIdentity) failed for <identity>: 403 AuthorizationFailed: .*; the caller needs Microsoft\.ManagedIdentity\/userAssignedIdentities\/(listAssociatedResources\/action, which Reader, Managed Identity Operator and Managed Identity Contributor do not grant|read)/,
      );
      expect(result.stderr).not.toContain(tenant.token);
    } finally {
      for (const victim of victims) sim.failIdentity(victim.id, 200);
    }
  }, 120_000);
});
