/**
 * `uami-audit demo` and `uami-audit simulate` run the tenant simulator, which is a development tool: it lives
 * in the repository's `simulator/` folder (TypeScript, run through tsx) and is never shipped in the function
 * package. Nothing in `src/` imports it statically (ESLint enforces it); these two commands load it when they
 * run, from the repository the CLI runs from, and say so clearly when it is not there.
 *
 * What the CLI uses of it is declared here rather than imported, so the compiled CLI has no trace of it.
 */
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

export interface SimulatedTenant {
  tenantId: string;
  subscriptions: string[];
  token: string;
  workspaceId: string;
}

/** The part of simulator/index.ts's RunningSimulator the demo uses. */
export interface SimulatorHandle {
  endpoint: string;
  caFile: string;
  tenants: SimulatedTenant[];
  close(): Promise<void>;
}

export interface SimulatorModule {
  startSimulator(options: { identities: number; seed: number | string; rate?: number; tenants?: number }): Promise<SimulatorHandle>;
}

export interface SimulatorCliModule {
  /** simulator/cli.ts: parses `argv` (node-style, options from index 2), serves until SIGINT/SIGTERM, resolves with the exit code. */
  runSimulatorCli(argv: string[], options?: { name?: string }): Promise<number>;
}

export class SimulatorMissingError extends Error {
  constructor(detail: string) {
    super(
      `The tenant simulator is not part of this installation (${detail}): it is a development tool in the repository's simulator/ folder, never shipped; ` +
        "run `uami-audit demo` or `uami-audit simulate` from a clone of the repository after `npm ci`.",
    );
    this.name = "SimulatorMissingError";
  }
}

/** simulator/<name>.ts next to the source tree (src/cli/ → ../../) or to the compiled one (dist/src/cli/ → ../../../). */
function simulatorFile(name: string): string | undefined {
  for (const up of ["../../", "../../../"]) {
    const file = fileURLToPath(new URL(`${up}simulator/${name}.ts`, import.meta.url));
    if (existsSync(file)) return file;
  }
  return undefined;
}

async function load(name: string): Promise<unknown> {
  const file = simulatorFile(name);
  if (!file) throw new SimulatorMissingError(`no simulator/${name}.ts beside this CLI`);
  // Run from TypeScript (tsx is loaded): a plain import. Run compiled: the simulator is still TypeScript, so
  // tsx (a devDependency) imports it.
  if (import.meta.url.endsWith(".ts")) return import(pathToFileURL(file).href);
  let tsImport: (specifier: string, parent: string) => Promise<unknown>;
  try {
    ({ tsImport } = (await import("tsx/esm/api")) as { tsImport: typeof tsImport });
  } catch {
    throw new SimulatorMissingError("tsx, a devDependency, is not installed");
  }
  return tsImport(pathToFileURL(file).href, import.meta.url);
}

export async function loadSimulator(): Promise<SimulatorModule> {
  return (await load("index")) as SimulatorModule;
}

export async function loadSimulatorCli(): Promise<SimulatorCliModule> {
  return (await load("cli")) as SimulatorCliModule;
}
