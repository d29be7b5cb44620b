/**
 * The `uami-audit` command line: `scan` (a whole audit on one machine), `worker` (one more queue
 * worker process for a scan in progress), `report` (render a stored run). Exit codes: 0 success,
 * 1 failure, 2 bad usage.
 */
import "./quietFunctionsTestMode.js";
import { writeFile } from "node:fs/promises";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import cliProgress from "cli-progress";
import { isGuid, isManagementGroupId } from "../config.js";
import { storageAccountFromConnectionOrName } from "./storageOption.js";
import { runScan } from "./scan.js";
import { runWorker } from "./worker.js";
import { scanOutput } from "./scanOutput.js";
import { createSmtpTransport } from "../mail/smtpTransport.js";
import { verdictOptions, type MailSettings } from "../audit/runReport.js";
import { accountedFor, runPhase } from "../audit/model.js";
import { renderRunReport } from "./report.js";
import { DEFAULT_LOGS_ENDPOINT, DEFAULT_SIGNIN_WINDOW_DAYS } from "../activity/signInActivity.js";
import { isReportFormat, REPORT_FORMATS } from "../report/render.js";

class UsageError extends Error {}

function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
    return n;
  };
}

function positiveInteger(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive whole number`);
    return n;
  };
}

function guidOption(label: string) {
  return (value: string, previous: string[] = []): string[] => {
    if (!isGuid(value)) throw new InvalidArgumentError(`${label} "${value}" is not a GUID`);
    return [...previous, value.toLowerCase()];
  };
}

function managementGroupOption(value: string, previous: string[] = []): string[] {
  if (!isManagementGroupId(value)) throw new InvalidArgumentError(`"${value}" is not a management group id`);
  return [...previous, value];
}

function armOptions(command: Command): Command {
  return command
    .addOption(new Option("--arm-endpoint <url>", "Azure Resource Manager endpoint").env("UAMI_ARM_ENDPOINT").default("https://management.azure.com"))
    .addOption(
      new Option("--token <token>", "static ARM bearer token (else DefaultAzureCredential); `-` reads it from standard input. Prefer UAMI_ARM_TOKEN or `-`: a command line is visible to every user of the machine")
        .env("UAMI_ARM_TOKEN"),
    )
    .hook("preAction", tokenFromStandardInput)
    .addOption(new Option("--ca-file <path>", "extra PEM CA to trust for ARM (the simulator's certificate)").env("UAMI_ARM_CA_FILE"))
    .addOption(
      new Option("--tenant <id>", "tenant id to audit (default: the token's tenant)").env("UAMI_AUDIT_TENANT_ID").argParser((v: string) => {
        if (!isGuid(v)) throw new InvalidArgumentError(`tenant "${v}" is not a GUID`);
        return v.toLowerCase();
      }),
    )
    .option("--rate <perSecond>", "listAssociatedResources requests per second for the tenant", positiveNumber("--rate"), 1)
    .option("--storage <connection>", "storage connection string or account name (default: an in-memory Azurite)")
    .option("--prefix <prefix>", "prefix of table and queue names (to share a storage account)", "");
}

function validateHttpsUrl(option: string, url: string): string {
  if (!/^https:\/\/[^\s/]+/.test(url)) throw new UsageError(`${option} must be an https:// URL, got "${url}"`);
  return url.replace(/\/+$/, "");
}

/**
 * `--token -` reads the token from standard input (`az account get-access-token --query accessToken -o tsv
 * | uami-audit scan --token - ...`), so it never shows in `ps` or /proc/<pid>/cmdline as a literal value
 * does; such a value still works, with a warning that never repeats the token.
 */
async function tokenFromStandardInput(command: Command): Promise<void> {
  const token: unknown = command.getOptionValue("token");
  if (token === "-") {
    let text = "";
    for await (const chunk of process.stdin) text += String(chunk);
    const read = text.trim();
    if (!read) throw new UsageError("--token -: standard input held no token");
    command.setOptionValueWithSource("token", read, command.getOptionValueSource("token") ?? "cli");
  } else if (typeof token === "string" && token !== "" && command.getOptionValueSource("token") === "cli") {
    process.stderr.write("warning: --token is visible to every user of this machine (ps, /proc); set UAMI_ARM_TOKEN or pass --token - and the token on standard input\n");
  }
}

function validateArmUrl(url: string): string {
  return validateHttpsUrl("--arm-endpoint", url);
}

/** The `tid` claim of a JWT access token, when the token is one (never logged: only the tenant id is read). */
function tenantOfToken(token: string | undefined): string | undefined {
  const payload = token?.split(".")[1];
  if (!payload) return undefined;
  try {
    const tid = (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { tid?: unknown }).tid;
    return typeof tid === "string" && isGuid(tid) ? tid.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

function requireTenant(tenant: string | undefined, token?: string): string {
  const resolved = tenant ?? tenantOfToken(token);
  if (!resolved) throw new UsageError("--tenant is required (the tenant id to audit); it is read from --token only when the token is a JWT");
  return resolved;
}

function mailFromOptions(opts: Record<string, unknown>): MailSettings {
  const to = (opts.mailTo as string[] | undefined) ?? [];
  if (to.length === 0) return { to: [], alwaysSend: false };
  if (!opts.mailFrom || !opts.smtpHost) throw new UsageError("--mail-to needs --mail-from and --smtp-host");
  return {
    transport: createSmtpTransport({
      host: String(opts.smtpHost),
      port: Number(opts.smtpPort),
      secure: Boolean(opts.smtpSecure),
      user: opts.smtpUser as string | undefined,
      password: process.env.UAMI_SMTP_PASSWORD,
    }),
    from: String(opts.mailFrom),
    to,
    alwaysSend: Boolean(opts.alwaysSend),
    minDelayMs: 200,
  };
}

export function buildProgram(): Command {
  const program = new Command("uami-audit")
    .description("Find unused user-assigned managed identities across an Azure tenant")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  armOptions(program.command("scan").description("run one whole audit on this machine"))
    .option("--subscription <id>", "audit only this subscription (repeatable)", guidOption("subscription"))
    .option("--management-group <id>", "audit only this management group (repeatable)", managementGroupOption)
    .option("--workers <k>", "concurrent queue workers", positiveInteger("--workers"), 4)
    .option("--associations <n>", "associated resources stored per identity", (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("--associations must be a whole number >= 0");
      return n;
    })
    .addOption(new Option("--mode <mode>", "fast: identities Resource Graph shows referenced skip listAssociatedResources; exhaustive: every identity through it").choices(["fast", "exhaustive"]).env("UAMI_AUDIT_MODE").default("fast"))
    .option("--out <file>", "write the results as JSON to this file")
    .option("--quiet", "no progress display")
    .option("--grace-days <days>", "identities younger than this are `recent`", (v: string) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError("--grace-days must be a number >= 0");
      return n;
    }, 7)
    .option("--exempt-tag <name>", "tag name that exempts an identity", "uami-audit-exempt")
    .option("--mail-to <address>", "send the alert digest to this address (repeatable)", (v: string, prev: string[] = []) => [...prev, v])
    .option("--mail-from <address>", "sender of the alert digest")
    .option("--smtp-host <host>", "SMTP server for the digest (password from UAMI_SMTP_PASSWORD)")
    .option("--smtp-port <port>", "SMTP port", positiveInteger("--smtp-port"), 587)
    .option("--smtp-user <user>", "SMTP user")
    .option("--smtp-secure", "implicit TLS (port 465)")
    .option("--always-send", "send the digest even when nothing is newly unused")
    .option("--report-url <url>", "link to the full report, for the digest")
    .addOption(new Option("--signin-workspace <id>", "Log Analytics workspace id receiving Entra managed-identity sign-in logs (AADManagedIdentitySignInLogs); none: sign-ins not checked").env("UAMI_SIGNIN_WORKSPACE_ID").argParser((v: string) => {
      if (!isGuid(v)) throw new InvalidArgumentError(`workspace "${v}" is not a workspace id (GUID)`);
      return v.toLowerCase();
    }))
    .addOption(new Option("--signin-window-days <days>", "how far back a successful sign-in makes an identity `active`").env("UAMI_SIGNIN_WINDOW_DAYS").default(DEFAULT_SIGNIN_WINDOW_DAYS).argParser(positiveInteger("--signin-window-days")))
    .addOption(new Option("--logs-endpoint <url>", "Log Analytics query endpoint (sovereign clouds, the simulator)").env("UAMI_LOGS_ENDPOINT").default(DEFAULT_LOGS_ENDPOINT))
    .addOption(new Option("--logs-token <token>", "static Log Analytics bearer token (else the ARM credential)").env("UAMI_LOGS_TOKEN"))
    .action(async (opts) => {
      const tenantId = requireTenant(opts.tenant, opts.token);
      if (opts.subscription && opts.managementGroup) throw new UsageError("use --subscription or --management-group, not both");
      const bar = opts.quiet || !process.stderr.isTTY ? undefined : new cliProgress.SingleBar({ format: "checked {value}/{total} | {status}", stream: process.stderr }, cliProgress.Presets.shades_classic);
      bar?.start(0, 0, { status: "inventory" });
      const result = await runScan({
        tenantId,
        scope: { subscriptions: opts.subscription ?? [], managementGroups: opts.managementGroup ?? [] },
        storage: opts.storage ? storageAccountFromConnectionOrName(opts.storage) : undefined,
        storagePrefix: opts.prefix,
        armEndpoint: validateArmUrl(opts.armEndpoint),
        token: opts.token,
        caFile: opts.caFile,
        ratePerSecond: opts.rate,
        workers: opts.workers,
        associationsToStore: opts.associations,
        findings: { gracePeriodDays: opts.graceDays, exemptTag: opts.exemptTag, reportUrl: opts.reportUrl },
        mail: mailFromOptions(opts),
        mode: opts.mode,
        ...(opts.signinWorkspace
          ? { signIns: { workspaceId: opts.signinWorkspace, windowDays: Number(opts.signinWindowDays), endpoint: validateHttpsUrl("--logs-endpoint", opts.logsEndpoint), ...(opts.logsToken ? { token: opts.logsToken } : {}) } }
          : {}),
        onProgress: (run) => {
          bar?.setTotal(run.expected);
          bar?.update(accountedFor(run), { status: `${runPhase(run)}${run.mode ? ` (${run.mode} mode)` : ""}` });
        },
      });
      bar?.stop();
      try {
        const { run } = result;
        if (opts.out) {
          const options = verdictOptions({ gracePeriodDays: opts.graceDays, exemptTag: opts.exemptTag }, run.finishedAt ?? run.startedAt);
          const output = await scanOutput(result.deps, run, { report: result.report, options });
          await writeFile(opts.out, JSON.stringify(output, null, 2) + "\n");
        }
        process.stderr.write(
          `Run ${run.runId} ${run.status} (${run.mode ?? "exhaustive"} mode): ${run.checked} checked, ${run.deleted} deleted, ${run.failed} failed, ${run.requests} ARM requests of which ${run.apiRequests} listAssociatedResources (${run.throttled} throttled)\n`,
        );
        if (result.report) {
          const counts = result.report.run.countsByVerdict;
          process.stderr.write(`Verdicts: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(", ")}; ${result.report.run.newUnusedCount} newly unused; email ${run.emailStatus ?? "not sent"}\n`);
        }
        if (run.status !== "complete") process.exitCode = 1;
      } finally {
        await result.close();
      }
    });

  armOptions(program.command("worker").description("one more queue worker for a run in progress (needs --storage)"))
    .requiredOption("--run <runId>", "stop when this run is complete or failed")
    .option("--workers <k>", "concurrent invocations in this process", positiveInteger("--workers"), 1)
    .option("--rate-safety-ms <ms>", "extra milliseconds between rate-limit slots (default: 50 at 1/s, 5% of the interval at faster rates)", (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("--rate-safety-ms must be a whole number >= 0");
      return n;
    })
    .option("--lease-seconds <s>", "how long a fetched message stays invisible (renewed while it runs)", positiveInteger("--lease-seconds"), 30)
    .action(async (opts) => {
      if (!opts.storage) throw new UsageError("worker needs --storage: it joins a run stored there");
      const stats = await runWorker({
        runId: opts.run,
        storage: storageAccountFromConnectionOrName(opts.storage),
        storagePrefix: opts.prefix,
        armEndpoint: validateArmUrl(opts.armEndpoint),
        token: opts.token,
        caFile: opts.caFile,
        ratePerSecond: opts.rate,
        rateSafetyMs: opts.rateSafetyMs,
        leaseSeconds: opts.leaseSeconds,
        workers: opts.workers,
      });
      process.stderr.write(`worker done: ${stats.succeeded} handled, ${stats.failed} failed, ${stats.poisoned} poisoned\n`);
    });

  program
    .command("report")
    .description("render the report of a stored run (the latest completed one by default)")
    .requiredOption("--storage <connection>", "storage connection string or account name holding the runs")
    .option("--prefix <prefix>", "prefix of table and queue names", "")
    .option("--tenant <id>", "tenant whose latest completed run to render")
    .option("--run <runId>", "render this run instead of the latest")
    .option("--format <format>", `one of ${REPORT_FORMATS.join(", ")}`, "html")
    .option("--out <file>", "write to this file instead of standard output")
    .action(async (opts) => {
      if (!isReportFormat(opts.format)) throw new UsageError(`--format must be one of ${REPORT_FORMATS.join(", ")}, got "${opts.format}"`);
      if (!opts.run && !opts.tenant) throw new UsageError("give --run or --tenant");
      if (opts.tenant && !isGuid(opts.tenant)) throw new UsageError(`--tenant "${opts.tenant}" is not a GUID`);
      const rendered = await renderRunReport({
        storage: storageAccountFromConnectionOrName(opts.storage),
        storagePrefix: opts.prefix,
        runId: opts.run,
        tenantId: opts.tenant,
        format: opts.format,
      });
      if (opts.out) await writeFile(opts.out, rendered.body);
      else process.stdout.write(rendered.body);
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") return 0;
      return 2;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`uami-audit failed: ${(error as Error).message}\n`);
    return 1;
  }
}

const invokedDirectly = process.argv[1] && /(?:^|[\\/])(?:main\.[jt]s|uami-audit(?:\.js)?)$/.test(process.argv[1]);
if (invokedDirectly) {
  const code = await main(process.argv);
  process.exitCode = code;
  // Keep-alive sockets must not hold the process open once the work is done.
  setTimeout(() => process.exit(code), 200).unref();
}
