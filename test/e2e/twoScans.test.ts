import { spawn } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "../../simulator/index.js";
import type { ScanOutput } from "../../src/cli/scanOutput.js";
import type { AuditReport } from "../../src/report/model.js";
import { startSmtpTestServer, type SmtpTestServer } from "../mail/smtpTestServer.js";
import { uniquePrefix } from "../helpers/storage.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const DAY = 86_400_000;

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let stdout = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.on("exit", (code) => resolve({ code, stderr, stdout }));
  });
}

describe("two scans of one tenant: new findings, unused since, and the alert email", () => {
  let sim: RunningSimulator;
  let smtp: SmtpTestServer;
  let dir: string;
  beforeAll(async () => {
    sim = await startSimulator({ identities: 60, seed: 2026, rate: 100 });
    smtp = await startSmtpTestServer();
    dir = await mkdtemp(join(tmpdir(), "uami-e2e-"));
  });
  afterAll(async () => {
    await sim?.close();
    await smtp?.close();
  });

  it("marks exactly the newly unused identities as new, keeps 'unused since' of the old ones, and emails exactly the new ones", async () => {
    const tenant = sim.tenants[0]!;
    const prefix = uniquePrefix();
    const common = [
      "scan", "--tenant", tenant.tenantId, "--storage", process.env.UAMI_TEST_STORAGE!, "--prefix", prefix,
      "--arm-endpoint", sim.endpoint, "--ca-file", sim.caFile, "--rate", "50", "--workers", "4", "--quiet",
      "--mail-to", "secops@example.com", "--mail-from", "uami-audit@example.com", "--smtp-host", "127.0.0.1", "--smtp-port", String(smtp.port),
    ];
    const env = { UAMI_ARM_TOKEN: tenant.token };

    const first = await cli([...common, "--out", join(dir, "first.json")], env);
    expect(first.code, first.stderr).toBe(0);
    const firstOut = JSON.parse(await readFile(join(dir, "first.json"), "utf8")) as ScanOutput;
    expect(firstOut.status).toBe("complete");
    expect(firstOut.identities).toHaveLength(60);
    const unusedBefore = new Set(firstOut.identities.filter((i) => i.verdict === "unused").map((i) => i.id.toLowerCase()));
    expect(unusedBefore.size).toBeGreaterThan(0);
    for (const identity of firstOut.identities) {
      const truth = sim.truth.identity(identity.id)!;
      // Fast mode: an identity Resource Graph shows referenced has no API count, only its references.
      if (identity.associationCount === null) expect(identity.evidence.resourceGraph.referenceCount).toBeGreaterThan(0);
      else expect(identity.associationCount).toBe(truth.associationCount);
      if (identity.verdict === "unused") expect(truth.associationCount + truth.federatedCredentialCount).toBe(0);
    }
    expect(smtp.messages).toHaveLength(1);

    // Between the runs, two old, non-federated, non-exempt identities lose every association.
    const now = Date.now();
    const victims = sim.truth.tenants[0]!.identities
      .filter((i) => i.associationCount > 0 && i.associationCount < 50 && i.hiddenUsage.length === 0 && i.federatedCredentialCount === 0 && !i.exempt && now - Date.parse(i.createdAt) > 30 * DAY)
      .slice(0, 2);
    expect(victims).toHaveLength(2);
    for (const victim of victims) sim.removeAssociations(victim.id);

    const second = await cli([...common, "--out", join(dir, "second.json")], env);
    expect(second.code, second.stderr).toBe(0);
    const secondOut = JSON.parse(await readFile(join(dir, "second.json"), "utf8")) as ScanOutput;
    const newlyUnused = victims.map((v) => v.id.toLowerCase()).sort();
    const unusedAfter = secondOut.identities.filter((i) => i.verdict === "unused").map((i) => i.id.toLowerCase());
    expect(unusedAfter.sort()).toEqual([...unusedBefore, ...newlyUnused].sort());

    // The stored report of the second run: the CLI renders it without calling Azure.
    const rendered = await cli(["report", "--storage", process.env.UAMI_TEST_STORAGE!, "--prefix", prefix, "--tenant", tenant.tenantId, "--format", "json"], {});
    expect(rendered.code, rendered.stderr).toBe(0);
    const report = JSON.parse(rendered.stdout) as AuditReport;
    expect(report.run.runId).toBe(secondOut.runId);
    const isNew = report.unused.filter((f) => f.isNew).map((f) => f.key).sort();
    expect(isNew).toEqual(newlyUnused);
    for (const finding of report.unused) {
      expect(finding.unusedSince).toBe(unusedBefore.has(finding.key) ? firstOut.startedAt : secondOut.startedAt);
    }

    expect(smtp.messages).toHaveLength(2);
    const mail = await simpleParser(smtp.messages[1]!);
    expect(mail.text).toBeTruthy();
    expect(mail.html).toBeTruthy();
    for (const victim of victims) {
      expect(mail.text).toContain(victim.name);
      expect(String(mail.html)).toContain(victim.name);
    }
    for (const old of firstOut.identities.filter((i) => unusedBefore.has(i.id.toLowerCase()))) {
      expect(mail.text).not.toContain(old.id);
    }

    const html = await cli(["report", "--storage", process.env.UAMI_TEST_STORAGE!, "--prefix", prefix, "--tenant", tenant.tenantId, "--format", "html", "--out", join(dir, "report.html")], {});
    expect(html.code, html.stderr).toBe(0);
    expect(await readFile(join(dir, "report.html"), "utf8")).toMatch(/<html/i);
  }, 180_000);

  it("answers bad usage with exit code 2 and a clear message", async () => {
    const noTenant = await cli(["scan", "--arm-endpoint", "https://127.0.0.1:1"], {});
    expect(noTenant.code).toBe(2);
    expect(noTenant.stderr).toMatch(/--tenant is required/);
    const badRate = await cli(["scan", "--tenant", sim.tenants[0]!.tenantId, "--rate", "fast"], {});
    expect(badRate.code).toBe(2);
    expect(badRate.stderr).toMatch(/--rate must be a positive number/);
    const badFormat = await cli(["report", "--storage", "UseDevelopmentStorage=true", "--run", "x", "--format", "pdf"], {});
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toMatch(/--format must be one of/);
  }, 60_000);
});
