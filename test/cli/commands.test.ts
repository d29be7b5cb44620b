/**
 * The binary is the one entry point: `uami-audit demo` and `uami-audit simulate` (the simulator, loaded only
 * when they run, with a clear error where it is absent), and every command's --help has examples. Real CLI
 * processes.
 */
import { cp, mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { cleanEnv, jsonLines, runCli, startCli } from "./cliProcess.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("uami-audit commands", () => {
  it.each([[[]], [["scan"]], [["worker"]], [["report"]], [["demo"]], [["simulate"]]])("`%s --help` shows examples and exits 0", async (command) => {
    const result = await runCli([...command, "--help"], { env: cleanEnv() });
    expect(result.code, result.stderr).toBe(0);
    const help = result.stdout.join("\n");
    expect(help).toMatch(/\nExamples:\n {2}\$ .*uami-audit /);
    if (command.length === 0) {
      expect(help).toMatch(/Exit codes: 0 ok, 1 failed, 2 bad usage, 3 unused identities found/);
      for (const name of ["scan", "worker", "report", "demo", "simulate"]) expect(help).toContain(`  ${name}`);
    }
    if (command[0] === "scan") for (const flag of ["--json", "--fail-on-findings", "--resume", "--credential-timeout"]) expect(help).toContain(flag);
    if (command[0] === "simulate") expect(help).toContain("--identities <n>");
  }, 60_000);

  it("`simulate` prints the simulator's JSON line, serves, and exits 0 on SIGTERM", async () => {
    const sim = startCli(["simulate", "--identities", "7", "--seed", "cli-simulate", "--tenants", "2"], { env: cleanEnv() });
    const info = JSON.parse(await sim.waitForLine((line) => line.startsWith("{"))) as { endpoint: string; caFile: string; tenants: { tenantId: string; token: string }[] };
    expect(Object.keys(info)).toEqual(["endpoint", "caFile", "tenants"]);
    expect(info.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(info.tenants).toHaveLength(2);
    sim.child.kill("SIGTERM");
    const exited = await sim.exited;
    expect(exited.code, exited.stderr).toBe(0);
    expect(exited.stdout.filter((line) => line.trim())).toHaveLength(1);
  }, 60_000);

  it("`demo --json` audits a simulated tenant and writes the report in every format", async () => {
    const out = await mkdtemp(path.join(tmpdir(), "uami-demo-"));
    try {
      const result = await runCli(["demo", "--identities", "12", "--rate", "50", "--out", out, "--json"], { env: cleanEnv() });
      expect(result.code, result.stderr).toBe(0);
      const lines = jsonLines(result);
      expect(lines[0]).toMatchObject({ type: "run", storage: "in-memory" });
      const last = lines.at(-1)!;
      expect(last).toMatchObject({ type: "result", command: "demo", status: "complete", expected: 12, exitCode: 0 });
      const files = await readdir(out);
      expect(files).toEqual(expect.arrayContaining(["report.html", "report.json", "report.csv", "report.md", "results.json"]));
      expect((last.files as string[]).map((file) => path.basename(file)).sort()).toEqual(files.sort());
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 180_000);

  it("`demo` and `simulate` where the simulator is absent (an installation without simulator/): one clear error, exit 1", async () => {
    const copy = await mkdtemp(path.join(tmpdir(), "uami-nosim-"));
    try {
      for (const entry of ["src", "bin", "package.json", "tsconfig.json"]) await cp(path.join(ROOT, entry), path.join(copy, entry), { recursive: true });
      await symlink(path.join(ROOT, "node_modules"), path.join(copy, "node_modules"), "dir");
      for (const command of ["demo", "simulate"]) {
        const result = await runCli([command], { env: cleanEnv(), cwd: copy, cli: path.join(copy, "src", "cli", "main.ts") });
        expect(result.code, result.stderr).toBe(1);
        const lines = result.stderr.trim().split("\n");
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/The tenant simulator is not part of this installation .*run `uami-audit demo` or `uami-audit simulate` from a clone of the repository after `npm ci`/);
      }
      // The rest of the CLI does not need it.
      const help = await runCli(["scan", "--help"], { env: cleanEnv(), cwd: copy, cli: path.join(copy, "src", "cli", "main.ts") });
      expect(help.code).toBe(0);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  }, 120_000);
});
