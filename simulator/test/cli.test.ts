/**
 * The CLI as a process: one JSON line when ready, serving until SIGTERM (exit 0), exit 2 on bad options.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { SimClient } from "./httpsClient.js";
import type { SimulatorInfo } from "../index.js";

const ROOT = join(import.meta.dirname, "..", "..");
const TSX = join(ROOT, "node_modules", ".bin", "tsx");
const CLI = join(ROOT, "simulator", "cli.ts");

function run(args: string[]) {
  const child = spawn(TSX, [CLI, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

describe("simulator CLI", () => {
  it("prints one JSON line, serves, and exits 0 on SIGTERM", async () => {
    const { child, exited } = run(["--identities", "15", "--seed", "cli", "--tenants", "2", "--rate", "5", "--unused-share", "0.3"]);
    const lines = createInterface({ input: child.stdout });
    const first = await new Promise<string>((resolve) => lines.once("line", resolve));
    const info = JSON.parse(first) as SimulatorInfo;
    expect(Object.keys(info)).toEqual(["endpoint", "caFile", "tenants"]);
    expect(info.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(existsSync(info.caFile)).toBe(true);
    expect(info.tenants).toHaveLength(2);
    expect(Object.keys(info.tenants[0]!)).toEqual(["tenantId", "subscriptions", "token", "workspaceId"]);

    const { readFile } = await import("node:fs/promises");
    const client = new SimClient(info.endpoint, await readFile(info.caFile, "utf8"), info.tenants[0]!.token);
    const response = await client.post("/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01", {
      body: { query: "resources | where type =~ 'microsoft.managedidentity/userassignedidentities' | count" },
    });
    client.close();
    expect(response.status).toBe(200);
    expect(response.body.data[0].Count).toBe(15);

    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(existsSync(info.caFile)).toBe(false);
  });

  it("with no options serves one tenant of 100 identities from the default seed", async () => {
    const { child, exited } = run([]);
    const lines = createInterface({ input: child.stdout });
    const info = JSON.parse(await new Promise<string>((resolve) => lines.once("line", resolve))) as SimulatorInfo;
    expect(info.tenants).toHaveLength(1);
    const { readFile } = await import("node:fs/promises");
    const client = new SimClient(info.endpoint, await readFile(info.caFile, "utf8"), info.tenants[0]!.token);
    const response = await client.post("/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01", {
      body: { query: "resources | where type =~ 'microsoft.managedidentity/userassignedidentities' | count" },
    });
    client.close();
    expect(response.body.data[0].Count).toBe(100);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("exits 2 with a message for bad options", async () => {
    const cases: [string[], RegExp][] = [
      [["--tenants", "0"], /--tenants/],
      [["--identities", "abc", "--seed", "x"], /identities/],
      [["--identities", "5", "--seed", "x", "--unused-share", "2"], /unused-share/],
      [["--identities", "5", "--seed", "x", "--rate", "0"], /rate/],
      [["--identities", "5", "--seed", "x", "--bogus"], /unknown option/],
    ];
    // In parallel: each run pays tsx's start-up.
    const results = await Promise.all(
      cases.map(async ([args]) => {
        const { exited, stderr } = run(args);
        return { code: await exited, stderr: stderr() };
      }),
    );
    results.forEach((result, i) => {
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(cases[i]![1]);
    });
  });
});
