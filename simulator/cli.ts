/**
 * Runs the simulator as a process:
 *
 *   npm run simulator -- [--identities 100] [--seed uami-audit] [--tenants 2] [--port 8443] [--rate 1] [--unused-share 0.2]
 *                        [--hidden-usage-share 0.05] [--system-data] [--associated-resources-api on|off]
 *
 * When ready it prints exactly one JSON line on stdout,
 * `{"endpoint":"https://127.0.0.1:PORT","caFile":"/abs/path.pem","tenants":[{"tenantId","subscriptions","token","workspaceId"}]}`,
 * and serves until SIGINT or SIGTERM (then exits 0). Bad options: a message on stderr and exit code 2.
 *
 * `uami-audit simulate` runs the same thing (`runSimulatorCli`), loaded lazily by the CLI (src/cli/simulatorModule.ts).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { startSimulator, type RunningSimulator, type SimulatorOptions } from "./index.js";

const USAGE_ERROR = 2;

function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    return n;
  };
}

function number(check: (n: number) => boolean, expected: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!value.trim() || !Number.isFinite(n) || !check(n)) throw new InvalidArgumentError(`expected ${expected}.`);
    return n;
  };
}

interface CliOptions {
  identities: number;
  seed: string;
  tenants?: number;
  port?: number;
  rate?: number;
  unusedShare?: number;
  hiddenUsageShare?: number;
  systemData?: boolean;
  associatedResourcesApi?: "on" | "off";
  subscriptions?: number;
  errorRate?: number;
  latency?: number;
  dropRate?: number;
}

function buildProgram(name: string): Command {
  return new Command(name)
    .description("Simulated Azure Resource Manager for uami-audit (Resource Graph, identities, listAssociatedResources).")
    .option("--identities <n>", "identities per tenant", integer(0, 10_000_000), 100)
    .option("--seed <seed>", "seed of the deterministic generation: the same seed gives the same tenants", "uami-audit")
    .option("--tenants <n>", "number of tenants (default 1)", integer(1, 1000))
    .option("--port <port>", "port to listen on, 0 for a free one (default 0)", integer(0, 65535))
    .option("--rate <perSecond>", "listAssociatedResources requests per second per tenant (default 1)", number((n) => n > 0, "a positive number"))
    .option("--unused-share <share>", "share of identities with no associated resources (default 0.2)", number((n) => n >= 0 && n <= 1, "a number from 0 to 1"))
    .addOption(
      new Option("--hidden-usage-share <share>", "share of identities used in ways listAssociatedResources does not list (default 0.05)").argParser(
        number((n) => n >= 0 && n <= 1, "a number from 0 to 1"),
      ),
    )
    .addOption(new Option("--system-data", "the identity GET carries systemData (real recordings have none)"))
    .addOption(new Option("--associated-resources-api <state>", "listAssociatedResources on, or off as if retired (default on)").choices(["on", "off"]))
    .addOption(new Option("--subscriptions <n>", "subscriptions per tenant (default 4)").argParser(integer(1, 100_000)))
    .addOption(new Option("--error-rate <share>", "share of ARM requests answered 500/503").argParser(number((n) => n >= 0 && n <= 1, "a number from 0 to 1")))
    .addOption(new Option("--latency <ms>", "latency added to each ARM request").argParser(integer(0, 600_000)))
    .addOption(new Option("--drop-rate <share>", "share of ARM connections dropped").argParser(number((n) => n >= 0 && n <= 1, "a number from 0 to 1")))
    .addHelpText(
      "after",
      [
        "",
        "Prints one JSON line when ready: {\"endpoint\",\"caFile\",\"tenants\":[{\"tenantId\",\"subscriptions\",\"token\",\"workspaceId\"}]}; serves until Ctrl-C or SIGTERM.",
        "",
        "Examples:",
        `  $ ${name} --identities 1000 --seed 7 --rate 1`,
        `  $ ${name} --tenants 2 --error-rate 0.05 --latency 200`,
        `  $ ${name} --associated-resources-api off     # as if listAssociatedResources were retired`,
      ].join("\n"),
    )
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
}

function toSimulatorOptions(cli: CliOptions): SimulatorOptions {
  const faults = {
    ...(cli.errorRate !== undefined ? { errorRate: cli.errorRate } : {}),
    ...(cli.latency !== undefined ? { latencyMs: cli.latency } : {}),
    ...(cli.dropRate !== undefined ? { dropRate: cli.dropRate } : {}),
  };
  return {
    identities: cli.identities,
    seed: cli.seed,
    ...(cli.tenants !== undefined ? { tenants: cli.tenants } : {}),
    ...(cli.port !== undefined ? { port: cli.port } : {}),
    ...(cli.rate !== undefined ? { rate: cli.rate } : {}),
    ...(cli.unusedShare !== undefined ? { unusedShare: cli.unusedShare } : {}),
    ...(cli.hiddenUsageShare !== undefined ? { hiddenUsageShare: cli.hiddenUsageShare } : {}),
    ...(cli.systemData ? { systemData: true } : {}),
    ...(cli.associatedResourcesApi !== undefined ? { associatedResourcesApi: cli.associatedResourcesApi } : {}),
    ...(cli.subscriptions !== undefined ? { subscriptionsPerTenant: cli.subscriptions } : {}),
    ...(Object.keys(faults).length > 0 ? { faults } : {}),
  };
}

/**
 * Parses `argv` (node-style: options from index 2), starts the simulator, prints its JSON line and serves
 * until SIGINT or SIGTERM. Resolves with the exit code: 0 after a signal (or --help), 2 for bad options, 1
 * when the simulator could not start or close.
 */
export async function runSimulatorCli(argv: string[], options: { name?: string } = {}): Promise<number> {
  const program = buildProgram(options.name ?? "simulator");
  let simulatorOptions: SimulatorOptions;
  try {
    program.parse(argv);
    simulatorOptions = toSimulatorOptions(program.opts<CliOptions>());
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version are not errors.
      return error.exitCode === 0 ? 0 : USAGE_ERROR;
    }
    throw error;
  }

  let simulator: RunningSimulator;
  try {
    simulator = await startSimulator(simulatorOptions);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`simulator: ${message}\n`);
    return error instanceof TypeError ? USAGE_ERROR : 1;
  }

  const { endpoint, caFile, tenants } = simulator;
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      simulator.close().then(
        () => resolve(0),
        (error: unknown) => {
          process.stderr.write(`simulator: error while closing: ${String(error)}\n`);
          resolve(1);
        },
      );
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  // Only now the line that tells a parent it may signal us: a pipe write is synchronous on Linux, and on a busy
  // machine the parent could read the line and send SIGTERM before a handler installed after it (killed, no exit 0).
  process.stdout.write(`${JSON.stringify({ endpoint, caFile, tenants })}\n`);
  return stopped;
}

// `npm run simulator` (tsx simulator/cli.ts); not when `uami-audit simulate` imports this module.
if (process.argv[1] && /(?:^|[\\/])simulator[\\/]cli\.[jt]s$/.test(process.argv[1])) {
  runSimulatorCli(process.argv).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`simulator: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
