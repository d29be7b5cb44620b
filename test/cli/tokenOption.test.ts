/**
 * The ARM token never needs to be on the command line (where `ps` and /proc show it to every user of
 * the machine): `--token -` reads it from standard input, UAMI_ARM_TOKEN from the environment, and a
 * literal `--token` value draws a warning. Real `uami-audit scan` child processes against the simulator.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "../../simulator/index.js";
import { uniquePrefix } from "../helpers/storage.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

interface CliRun {
  code: number | null;
  stderr: string;
  /** Every command line the process had, read from /proc while it ran. */
  commandLines: string[];
}

function runCli(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
    env: { ...process.env, UAMI_ARM_TOKEN: "", ...options.env },
    stdio: ["pipe", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(options.stdin ?? "");
  const commandLines = new Set<string>();
  const watch = setInterval(() => {
    readFile(`/proc/${child.pid}/cmdline`, "utf8").then((line) => commandLines.add(line.replace(/\0/g, " ")), () => undefined);
  }, 50);
  return new Promise((resolve) => {
    child.once("exit", (code) => {
      clearInterval(watch);
      resolve({ code, stderr, commandLines: [...commandLines] });
    });
  });
}

describe("uami-audit scan: the ARM token off the command line", () => {
  let sim: RunningSimulator;
  let dir: string;
  beforeAll(async () => {
    sim = await startSimulator({ identities: 6, seed: 21, rate: 50 });
    dir = await mkdtemp(path.join(tmpdir(), "uami-token-"));
  });
  afterAll(() => sim?.close());

  const scanArgs = (out: string) => [
    "scan", "--tenant", sim.tenants[0]!.tenantId, "--arm-endpoint", sim.endpoint, "--ca-file", sim.caFile,
    "--storage", process.env.UAMI_TEST_STORAGE!, "--prefix", uniquePrefix(), "--rate", "20", "--quiet", "--out", out,
  ];

  it("`--token -` reads the token from standard input: the scan completes and no command line ever held the token", async () => {
    const token = sim.tenants[0]!.token;
    const out = path.join(dir, "stdin.json");
    const run = await runCli([...scanArgs(out), "--token", "-"], { stdin: `${token}\n` });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/warning/);
    const result = JSON.parse(await readFile(out, "utf8")) as { status: string; identities: unknown[] };
    expect(result).toMatchObject({ status: "complete" });
    expect(result.identities).toHaveLength(6);
    expect(run.commandLines.length).toBeGreaterThan(0);
    for (const line of run.commandLines) expect(line).not.toContain(token);
  }, 60_000);

  it("UAMI_ARM_TOKEN works without any token on the command line or a warning", async () => {
    const out = path.join(dir, "env.json");
    const run = await runCli(scanArgs(out), { env: { UAMI_ARM_TOKEN: sim.tenants[0]!.token } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/warning/);
  }, 60_000);

  it("`--token -` with nothing on standard input is a usage error (exit 2)", async () => {
    const run = await runCli([...scanArgs(path.join(dir, "none.json")), "--token", "-"], { stdin: "\n" });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--token -.*standard input/);
  }, 30_000);

  it("a literal --token value still works but warns that the process list shows it", async () => {
    const out = path.join(dir, "literal.json");
    const run = await runCli([...scanArgs(out), "--token", sim.tenants[0]!.token]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/warning: --token is visible.*UAMI_ARM_TOKEN.*--token -/);
    expect(run.stderr).not.toContain(sim.tenants[0]!.token);
  }, 60_000);
});
