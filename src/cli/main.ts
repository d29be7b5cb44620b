/**
 * The `uami-audit` command line: `scan` (a whole audit on one machine, or `--resume` the one a stopped scan
 * left), `worker` (one more queue worker for a run in progress), `report` (render a stored run, building a
 * missing report), `demo` (the whole audit against a simulated tenant) and `simulate` (the simulator alone).
 * Exit codes: 0 success, 1 failure, 2 bad usage, 3 unused identities found (`--fail-on-findings`), 130/143
 * stopped by Ctrl-C/SIGTERM. `--json`: one JSON object per line on standard output (output.ts).
 */
import "./quietFunctionsTestMode.js";
import { writeFile } from "node:fs/promises";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { DefaultAzureCredential } from "@azure/identity";
import { isGuid, isManagementGroupId, loadCliEnvironment, type MailSettings } from "../config.js";
import { storageAccountFromConnectionOrName } from "./storageOption.js";
import { runScan } from "./scan.js";
import { runWorker } from "./worker.js";
import { scanOutput } from "./scanOutput.js";
import { createSmtpTransport } from "../mail/smtpTransport.js";
import { verdictOptions } from "../findings/verdicts.js";
import { accountedFor, type AuditRun } from "../model/run.js";
import { renderRunReport, ReportNotReadyError } from "./report.js";
import { checkCredential, CredentialProblem, credentialProblem, DEFAULT_CREDENTIAL_TIMEOUT_SECONDS, staticTokenProblem } from "./credentials.js";
import { createOutput, runCountersLine, type CliOutput } from "./output.js";
import { catchInterrupts, exitCodeForSignal } from "./interrupt.js";
import { resumeCommand, ResumeScopeError, workerCommand, type ResumeHint } from "./resume.js";
import { failureGroups } from "./failures.js";
import { runDemo } from "./demo.js";
import { loadSimulatorCli } from "./simulatorModule.js";
import { cliAuditDeps, type CliAuditOptions } from "./scan.js";
import type { StorageAccount } from "../store/storageAccount.js";
import { DEFAULT_LOGS_ENDPOINT, DEFAULT_SIGNIN_WINDOW_DAYS } from "../activity/signInActivity.js";
import { DEFAULT_ARM_ENDPOINT } from "../arm/connection.js";
import { DEFAULT_AUDIT_SETTINGS } from "../model/auditSettings.js";
import { DEFAULT_EXEMPT_TAG, DEFAULT_GRACE_PERIOD_DAYS } from "../findings/verdicts.js";
import { DEFAULT_RATE_PER_SECOND } from "../limiter/tenantRateLimiter.js";
import { DEFAULT_SMTP_PORT } from "../mail/smtpTransport.js";
import { isReportFormat, REPORT_FORMATS } from "../report/render.js";

class UsageError extends Error {}

/** The exit codes, documented in the README and in `uami-audit --help`. */
export const EXIT = { ok: 0, failed: 1, usage: 2, findings: 3 } as const;

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

/** The help of the ARM connection options: `scan` and `worker` audit through them, `report` only builds a missing report. */
const ARM_OPTION_HELP = {
  audit: {
    endpoint: "Azure Resource Manager endpoint",
    token:
      "static ARM bearer token (else DefaultAzureCredential); `-` reads it from standard input. Prefer UAMI_ARM_TOKEN or `-`: a command line is visible to every user of the machine",
    credentialTimeout: "how long the Azure credential may take to give a first token before the command gives up (DefaultAzureCredential only)",
  },
  report: {
    endpoint: "Azure Resource Manager endpoint, to build a missing report (role assignments)",
    token: "static ARM bearer token to build a missing report (else DefaultAzureCredential); `-` reads it from standard input",
    credentialTimeout: "how long the Azure credential may take to give a first token",
  },
} as const;

/** Adds the options that say how to reach ARM (endpoint, static token, extra CA, credential timeout); armSettingsFrom reads them. */
function armConnectionOptions(command: Command, help: (typeof ARM_OPTION_HELP)[keyof typeof ARM_OPTION_HELP]): Command {
  return command
    .addOption(new Option("--arm-endpoint <url>", help.endpoint).env("UAMI_ARM_ENDPOINT").default(DEFAULT_ARM_ENDPOINT))
    .addOption(new Option("--token <token>", help.token).env("UAMI_ARM_TOKEN"))
    .hook("preAction", tokenFromStandardInput)
    .addOption(new Option("--ca-file <path>", "extra PEM CA to trust for ARM (the simulator's certificate)").env("UAMI_ARM_CA_FILE"))
    .option("--credential-timeout <seconds>", help.credentialTimeout, positiveNumber("--credential-timeout"), DEFAULT_CREDENTIAL_TIMEOUT_SECONDS);
}

/** How a command reaches ARM, from the options armConnectionOptions added. */
interface ArmSettings {
  /** What CliAuditOptions takes of it. */
  connection: Pick<CliAuditOptions, "armEndpoint" | "token" | "caFile">;
  credentialTimeoutSeconds: number;
}

function armSettingsFrom(opts: Record<string, unknown>): ArmSettings {
  return {
    connection: {
      armEndpoint: validateHttpsUrl("--arm-endpoint", String(opts.armEndpoint)),
      token: staticToken(opts),
      caFile: typeof opts.caFile === "string" ? opts.caFile : undefined,
    },
    credentialTimeoutSeconds: Number(opts.credentialTimeout),
  };
}

/** What `scan` and `worker` share: how to reach ARM, the tenant and its rate, and the storage. */
function auditOptions(command: Command): Command {
  return armConnectionOptions(command, ARM_OPTION_HELP.audit)
    .addOption(
      new Option("--tenant <id>", "tenant id to audit (default: the token's tenant)").env("UAMI_AUDIT_TENANT_ID").argParser((v: string) => {
        if (!isGuid(v)) throw new InvalidArgumentError(`tenant "${v}" is not a GUID`);
        return v.toLowerCase();
      }),
    )
    .option("--rate <perSecond>", "listAssociatedResources requests per second for the tenant", positiveNumber("--rate"), DEFAULT_RATE_PER_SECOND)
    .option("--storage <connection>", "storage connection string or account name (default: an in-memory Azurite)")
    .option("--storage-outage-limit <seconds>", "how long storage may not answer before the scan gives up (then its run is marked failed and the tenant's lock released)", positiveNumber("--storage-outage-limit"), 900)
    .option("--prefix <prefix>", "prefix of table and queue names (to share a storage account)", "");
}

/** The token given with --token or UAMI_ARM_TOKEN; an empty one counts as none. */
function staticToken(opts: Record<string, unknown>): string | undefined {
  return typeof opts.token === "string" && opts.token !== "" ? opts.token : undefined;
}

/**
 * Checks the credentials before anything starts (credentials.ts): an expired static token, or a
 * DefaultAzureCredential that finds nothing or hangs, is one sentence within seconds.
 */
async function ensureCredentials(arm: ArmSettings, storage: StorageAccount | undefined): Promise<void> {
  const { token, armEndpoint } = arm.connection;
  if (token) {
    const problem = staticTokenProblem(token);
    if (problem) throw new CredentialProblem(problem);
  } else {
    await checkCredential(new DefaultAzureCredential(), `${armEndpoint}/.default`, arm.credentialTimeoutSeconds);
  }
  if (storage?.kind === "identity") await checkCredential(storage.credential, "https://storage.azure.com/.default", arm.credentialTimeoutSeconds);
}

/** How suggested commands name the storage: a bare account name as is, never a connection string (it holds the key). */
function resumeHintFor(tenantId: string, opts: Record<string, unknown>): ResumeHint {
  const storage = typeof opts.storage === "string" ? opts.storage.trim() : "";
  const prefix = typeof opts.prefix === "string" && opts.prefix ? opts.prefix : undefined;
  return { tenantId, ...(storage && !storage.includes("=") ? { storageName: storage } : {}), ...(prefix ? { prefix } : {}) };
}

function examples(lines: string[], notes: string[] = []): string {
  return ["", "Examples:", ...lines.map((line) => `  $ ${line}`), ...(notes.length > 0 ? ["", ...notes] : [])].join("\n");
}

function findingsOptions(command: Command): Command {
  return command
    .option("--grace-days <days>", "identities younger than this are `recent`", (v: string) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError("--grace-days must be a number >= 0");
      return n;
    }, DEFAULT_GRACE_PERIOD_DAYS)
    .option("--exempt-tag <name>", "tag name that exempts an identity", DEFAULT_EXEMPT_TAG);
}

/** Writes what a finished scan found (human lines, or the `result` JSON line) and returns its exit code. */
async function reportScan(output: CliOutput, result: Awaited<ReturnType<typeof runScan>>, opts: Record<string, unknown>): Promise<number> {
  const { run, report } = result;
  if (typeof opts.out === "string") {
    const options = verdictOptions({ gracePeriodDays: Number(opts.graceDays), exemptTag: String(opts.exemptTag) }, run.finishedAt ?? run.startedAt);
    const written = await scanOutput(result.deps, run, { report, options });
    await writeFile(opts.out, JSON.stringify(written, null, 2) + "\n");
  }
  const failures = run.failed > 0 ? await failureGroups(result.deps, run.runId) : [];
  const unused = report ? (report.run.countsByVerdict.unused ?? 0) : null;
  const exitCode = run.status !== "complete" || !report ? EXIT.failed : opts.failOnFindings && unused ? EXIT.findings : EXIT.ok;
  output.say(
    `Run ${run.runId} ${run.status} (${run.mode ?? "exhaustive"} mode): ${run.checked} checked, ${run.deleted} deleted, ${run.failed} failed, ${run.requests} ARM requests of which ${run.apiRequests} listAssociatedResources (${run.throttled} throttled)`,
  );
  if (run.status === "failed" && run.error) output.say(`The run failed: ${run.error}`);
  if (report) {
    const counts = report.run.countsByVerdict;
    output.say(`Verdicts: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(", ")}; ${report.run.newUnusedCount} newly unused; email ${run.emailStatus ?? "not sent"}`);
  }
  for (const failure of failures) output.say(`${failure.count} identities could not be checked: ${failure.reason}`);
  if (exitCode === EXIT.findings) output.say(`${unused} unused identities found: exit code ${EXIT.findings} (--fail-on-findings)`);
  output.line({
    type: "result",
    command: "scan",
    ...runCountersLine(run),
    resumed: result.opened !== undefined && result.opened.kind !== "new",
    countsByVerdict: report?.run.countsByVerdict ?? null,
    unused,
    newUnused: report?.run.newUnusedCount ?? null,
    emailStatus: run.emailStatus ?? null,
    error: run.error ?? null,
    failures,
    out: typeof opts.out === "string" ? opts.out : null,
    handled: result.stats.succeeded,
    failedAttempts: result.stats.failed,
    poisoned: result.stats.poisoned,
    exitCode,
  });
  return exitCode;
}

/** What a scan stopped by Ctrl-C says: how to continue it, or why there is nothing to continue. */
function reportStoppedScan(output: CliOutput, run: AuditRun, resumable: boolean, hint: ResumeHint, signal: string, stats?: { succeeded: number; failed: number }): void {
  const message = resumable
    ? `Stopped run ${run.runId} (${accountedFor(run)} of ${run.expected || "?"} identities accounted for; nothing left running). Continue it with \`${resumeCommand(hint)}\` (or add workers with \`${workerCommand(hint, run.runId)}\`).`
    : run.status === "failed"
      ? `Stopped run ${run.runId} before any identity was checked; it is marked failed. Run the scan again.`
      : `Stopped run ${run.runId}; nothing can be resumed: the scan kept its state in an in-memory Azurite, now gone (pass --storage to make a scan resumable).`;
  output.line({
    type: "interrupted",
    signal,
    runId: run.runId,
    resumable,
    resume: resumable ? resumeCommand(hint) : null,
    message,
    ...(stats ? { handled: stats.succeeded, failedAttempts: stats.failed } : {}),
  });
  output.say(message);
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
      password: loadCliEnvironment().smtpPassword,
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
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .addHelpText(
      "after",
      examples(
        [
          "az login && uami-audit scan --tenant <tenant-id> --out results.json",
          "uami-audit scan --tenant <tenant-id> --storage <account> --json --fail-on-findings",
          "uami-audit scan --resume --tenant <tenant-id> --storage <account>",
          "uami-audit report --storage <account> --tenant <tenant-id> --format html --out report.html",
          "uami-audit demo",
        ],
        [
          `Exit codes: ${EXIT.ok} ok, ${EXIT.failed} failed, ${EXIT.usage} bad usage, ${EXIT.findings} unused identities found (--fail-on-findings), 130/143 stopped by Ctrl-C/SIGTERM.`,
          "`uami-audit <command> --help` for each command's options and examples.",
        ],
      ),
    );

  const scan = auditOptions(program.command("scan").description("run one whole audit on this machine"))
    .option("--subscription <id>", "audit only this subscription (repeatable)", guidOption("subscription"))
    .option("--management-group <id>", "audit only this management group (repeatable)", managementGroupOption)
    .option("--workers <k>", "concurrent queue workers", positiveInteger("--workers"), 4)
    .option("--associations <n>", "associated resources stored per identity", (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("--associations must be a whole number >= 0");
      return n;
    })
    .addOption(new Option("--mode <mode>", "fast: identities Resource Graph shows referenced skip listAssociatedResources; exhaustive: every identity through it").choices(["fast", "exhaustive"]).env("UAMI_AUDIT_MODE").default(DEFAULT_AUDIT_SETTINGS.mode))
    .option("--out <file>", "write the results as JSON to this file")
    .option("--quiet", "no progress display")
    .option("--json", "machine-readable output: one JSON object per line on standard output (run, progress, warning, interrupted, result, error)")
    .option("--fail-on-findings", `exit with code ${EXIT.findings} when the run finds unused identities`)
    .option("--resume", "continue the tenant's run a stopped or killed scan left in --storage (or build its missing report); start a new run if there is none");
  findingsOptions(scan)
    .option("--mail-to <address>", "send the alert digest to this address (repeatable)", (v: string, prev: string[] = []) => [...prev, v])
    .option("--mail-from <address>", "sender of the alert digest")
    .option("--smtp-host <host>", "SMTP server for the digest (password from UAMI_SMTP_PASSWORD)")
    .option("--smtp-port <port>", "SMTP port", positiveInteger("--smtp-port"), DEFAULT_SMTP_PORT)
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
    .addHelpText(
      "after",
      examples(
        [
          "az login && uami-audit scan --tenant <tenant-id> --out results.json                   # in-memory storage",
          "uami-audit scan --tenant <tenant-id> --subscription <sub-id> --workers 4 --rate 1",
          "uami-audit scan --tenant <tenant-id> --storage <account-or-connection-string>         # resumable, keeps history",
          "uami-audit scan --resume --tenant <tenant-id> --storage <account-or-connection-string>  # after Ctrl-C or a crash",
          "az account get-access-token --query accessToken -o tsv | uami-audit scan --token - --json --fail-on-findings",
        ],
        [
          "Ctrl-C stops taking new checks, lets the ones in flight finish and says how to continue; a second Ctrl-C stops at once.",
          `Exit codes: ${EXIT.ok} complete, ${EXIT.failed} failed, ${EXIT.usage} bad usage, ${EXIT.findings} unused identities found (--fail-on-findings), 130/143 stopped.`,
        ],
      ),
    )
    .action(async (opts) => {
      const tenantId = requireTenant(opts.tenant, staticToken(opts));
      if (opts.subscription && opts.managementGroup) throw new UsageError("use --subscription or --management-group, not both");
      if (opts.resume && !opts.storage) {
        throw new UsageError("--resume needs --storage: a scan without it keeps its run in an in-memory Azurite that ends with it, so there is nothing to resume");
      }
      const arm = armSettingsFrom(opts);
      const storage = opts.storage ? storageAccountFromConnectionOrName(opts.storage) : undefined;
      const output = createOutput({ json: Boolean(opts.json), quiet: Boolean(opts.quiet) });
      await ensureCredentials(arm, storage);
      const hint = resumeHintFor(tenantId, opts);
      let current: AuditRun | undefined;
      const interrupts = catchInterrupts((signal) => {
        if (storage) {
          output.say(`${signal}: stopping after the checks in flight; press Ctrl-C again to stop at once.`);
          return;
        }
        // The in-memory Azurite goes on the same signal (cli/localAzurite.ts): there is nothing to finish or resume.
        if (current) reportStoppedScan(output, current, false, hint, signal);
        setImmediate(() => process.exit(exitCodeForSignal(signal)));
      });
      try {
        const scopeGiven = Boolean(opts.subscription || opts.managementGroup);
        const result = await runScan({
          tenantId,
          scope: { subscriptions: opts.subscription ?? [], managementGroups: opts.managementGroup ?? [] },
          storage,
          storagePrefix: opts.prefix,
          ...arm.connection,
          ratePerSecond: opts.rate,
          workers: opts.workers,
          storageOutageLimitMs: opts.storageOutageLimit * 1000,
          associationsToStore: opts.associations,
          findings: { gracePeriodDays: opts.graceDays, exemptTag: opts.exemptTag, reportUrl: opts.reportUrl },
          mail: mailFromOptions(opts),
          mode: opts.mode,
          ...(opts.signinWorkspace
            ? { signIns: { workspaceId: opts.signinWorkspace, windowDays: Number(opts.signinWindowDays), endpoint: validateHttpsUrl("--logs-endpoint", opts.logsEndpoint), ...(opts.logsToken ? { token: opts.logsToken } : {}) } }
            : {}),
          resume: Boolean(opts.resume),
          scopeGiven,
          resumeHint: hint,
          stopSignal: interrupts.signal,
          onRun: (opened) => {
            current = opened.run;
            output.line({
              type: "run",
              ...runCountersLine(opened.run),
              resumed: opened.kind !== "new",
              restartedFrom: opened.kind === "new" ? (opened.restartedFrom ?? null) : null,
              storage: storage ? "given" : "in-memory",
              note: opened.note ?? null,
            });
            if (opened.note) output.say(opened.note);
            output.progress(opened.run);
          },
          onRequeued: (count) => output.warn(`${count} identities of the run had no check message left (the scan stopped while sending them, or they expired): sent again`),
          onProgress: (run) => {
            current = run;
            output.progress(run);
          },
        });
        output.stop();
        try {
          if (result.stopped) {
            reportStoppedScan(output, result.run, result.resumable, hint, interrupts.received() ?? "SIGINT", result.stats);
            process.exitCode = interrupts.exitCode();
            return;
          }
          process.exitCode = await reportScan(output, result, opts);
        } finally {
          await result.close();
        }
      } finally {
        interrupts.dispose();
      }
    });

  auditOptions(program.command("worker").description("one more queue worker for a run in progress (needs --storage)"))
    .requiredOption("--run <runId>", "stop when this run is complete or failed")
    .option("--workers <k>", "concurrent invocations in this process", positiveInteger("--workers"), 1)
    .option("--rate-safety-ms <ms>", "extra milliseconds between rate-limit slots (default: 50 at 1/s, 5% of the interval at faster rates)", (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("--rate-safety-ms must be a whole number >= 0");
      return n;
    })
    .option("--lease-seconds <s>", "how long a fetched message stays invisible (renewed while it runs)", positiveInteger("--lease-seconds"), 30)
    .option("--json", "machine-readable output: one JSON object per line on standard output (progress, warning, interrupted, result, error)")
    .option("--quiet", "no progress display")
    .addHelpText(
      "after",
      examples(
        [
          "uami-audit worker --run <run-id> --tenant <tenant-id> --storage <account-or-connection-string>",
          "uami-audit worker --run <run-id> --storage <account> --workers 4 --json",
        ],
        [
          "A worker also finishes a run whose scan was stopped or killed after enumeration (lost check messages are sent again once the queue is empty);",
          "it does not build the report: `uami-audit report --run <run-id> --storage ...` builds a missing one.",
        ],
      ),
    )
    .action(async (opts) => {
      if (!opts.storage) throw new UsageError("worker needs --storage: it joins a run stored there");
      const arm = armSettingsFrom(opts);
      const storage = storageAccountFromConnectionOrName(opts.storage);
      const output = createOutput({ json: Boolean(opts.json), quiet: Boolean(opts.quiet) });
      await ensureCredentials(arm, storage);
      const interrupts = catchInterrupts((signal) => output.say(`${signal}: stopping after the checks in flight; press Ctrl-C again to stop at once.`));
      let warnedEnumerating = false;
      try {
        const result = await runWorker({
          runId: opts.run,
          storage,
          storagePrefix: opts.prefix,
          ...arm.connection,
          ratePerSecond: opts.rate,
          rateSafetyMs: opts.rateSafetyMs,
          leaseSeconds: opts.leaseSeconds,
          workers: opts.workers,
          storageOutageLimitMs: opts.storageOutageLimit * 1000,
          stopSignal: interrupts.signal,
          onRequeued: (count) => output.warn(`${count} identities of run ${opts.run} had no check message left: sent again`),
          onProgress: (run) => {
            if (run.status === "enumerating" && !warnedEnumerating) {
              warnedEnumerating = true;
              const hint = resumeHintFor(run.tenantId, opts);
              output.warn(`run ${run.runId} is still enumerating: this worker takes its checks as they are sent; if the scan that started it was stopped, continue it with \`${resumeCommand(hint)}\` instead`);
            }
            output.progress(run);
          },
        });
        output.stop();
        const { stats, run } = result;
        const hint = resumeHintFor(run.tenantId, opts);
        if (result.stopped) {
          const message = `Stopped (${accountedFor(run)} of ${run.expected} identities of run ${run.runId} accounted for; nothing left running). Continue with \`${workerCommand(hint, run.runId)}\` or \`${resumeCommand(hint)}\`.`;
          output.line({ type: "interrupted", signal: interrupts.received() ?? "SIGINT", runId: run.runId, resumable: true, resume: workerCommand(hint, run.runId), message });
          output.say(message);
          process.exitCode = interrupts.exitCode();
          return;
        }
        output.say(`worker done: ${stats.succeeded} handled, ${stats.failed} failed, ${stats.poisoned} poisoned; run ${run.runId} ${run.status}`);
        // The exit code table: a run that failed is exit 1, whoever drained it.
        const exitCode = run.status === "failed" ? EXIT.failed : EXIT.ok;
        if (exitCode === EXIT.failed) output.warn(`run ${run.runId} failed: ${run.error ?? "no reason recorded"}`);
        if (run.status === "complete" && run.reportStatus !== "built") {
          output.say(`Its report is built by \`uami-audit report --run ${run.runId} ${hint.storageName ? `--storage ${hint.storageName}` : `--storage "<the same connection string>"`}${hint.prefix ? ` --prefix ${hint.prefix}` : ""}\`.`);
        }
        output.line({
          type: "result",
          command: "worker",
          ...runCountersLine(run),
          handled: stats.succeeded,
          failedAttempts: stats.failed,
          poisoned: stats.poisoned,
          countsByVerdict: null,
          unused: null,
          newUnused: null,
          emailStatus: run.emailStatus ?? null,
          exitCode,
        });
        process.exitCode = exitCode;
      } finally {
        interrupts.dispose();
      }
    });

  findingsOptions(
    armConnectionOptions(
      program
        .command("report")
        .description("render the report of a stored run (the latest completed one by default); a complete run's missing report is built first")
        .requiredOption("--storage <connection>", "storage connection string or account name holding the runs")
        .option("--prefix <prefix>", "prefix of table and queue names", "")
        .option("--tenant <id>", "tenant whose latest completed run to render")
        .option("--run <runId>", "render this run instead of the latest")
        .option("--format <format>", `one of ${REPORT_FORMATS.join(", ")}`, "html")
        .option("--out <file>", "write to this file instead of standard output")
        .option("--fail-on-findings", `exit with code ${EXIT.findings} when the report lists unused identities`),
      ARM_OPTION_HELP.report,
    ),
  )
    .addHelpText(
      "after",
      examples(
        [
          "uami-audit report --storage <account> --tenant <tenant-id> --format html --out report.html",
          "uami-audit report --storage <account> --run <run-id> --format json",
          "uami-audit report --storage <account> --tenant <tenant-id> --format csv --fail-on-findings > unused.csv",
        ],
        [
          "Rendering a built report needs no Azure access; building a missing one (after `worker --run` finished a run) reads role assignments from ARM.",
          `Exit codes: ${EXIT.ok} ok, ${EXIT.failed} no such run or report not ready (the message says which command continues the run), ${EXIT.usage} bad usage, ${EXIT.findings} unused identities (--fail-on-findings).`,
        ],
      ),
    )
    .action(async (opts) => {
      if (!isReportFormat(opts.format)) throw new UsageError(`--format must be one of ${REPORT_FORMATS.join(", ")}, got "${opts.format}"`);
      if (!opts.run && !opts.tenant) throw new UsageError("give --run or --tenant");
      if (opts.tenant && !isGuid(opts.tenant)) throw new UsageError(`--tenant "${opts.tenant}" is not a GUID`);
      const storage = storageAccountFromConnectionOrName(opts.storage);
      const arm = armSettingsFrom(opts);
      const hint = resumeHintFor(opts.tenant ?? "<tenant-id>", opts);
      const result = await renderRunReport({
        storage,
        storagePrefix: opts.prefix,
        runId: opts.run,
        tenantId: opts.tenant,
        format: opts.format,
        findings: { gracePeriodDays: opts.graceDays, exemptTag: opts.exemptTag },
        hint: { ...(hint.storageName ? { storageName: hint.storageName } : {}), ...(hint.prefix ? { prefix: hint.prefix } : {}) },
        depsForBuild: async () => {
          await ensureCredentials(arm, storage);
          return cliAuditDeps({ storagePrefix: opts.prefix, ...arm.connection, ratePerSecond: DEFAULT_RATE_PER_SECOND, workers: 1 }, storage);
        },
      });
      if (result.built) process.stderr.write(`Run ${result.report.run.runId} had no built report: built and stored it.\n`);
      if (opts.out) await writeFile(opts.out, result.rendered.body);
      else process.stdout.write(result.rendered.body);
      const unused = result.report.run.countsByVerdict.unused ?? 0;
      if (opts.failOnFindings && unused > 0) {
        process.stderr.write(`${unused} unused identities: exit code ${EXIT.findings} (--fail-on-findings)\n`);
        process.exitCode = EXIT.findings;
      }
    });

  program
    .command("demo")
    .description("audit a simulated tenant end to end on this machine and write the report (what `npm run demo` does; needs the repository's simulator)")
    .addOption(new Option("--identities <n>", "identities in the simulated tenant").env("DEMO_IDENTITIES").default(300).argParser(positiveInteger("--identities")))
    .addOption(new Option("--rate <perSecond>", "listAssociatedResources requests per second the simulated tenant allows (Azure: 1)").env("DEMO_RATE").default(25).argParser(positiveNumber("--rate")))
    .option("--seed <seed>", "seed of the simulated tenant (same seed, same tenant)", "demo")
    .option("--out <dir>", "folder for the report in every format and results.json", "demo-output")
    .option("--json", "machine-readable output: one JSON object per line on standard output (run, progress, result, error)")
    .option("--quiet", "no progress display")
    .addHelpText("after", examples(["uami-audit demo", "uami-audit demo --identities 1000 --rate 50 --out /tmp/demo", "uami-audit demo --json"]))
    .action(async (opts) => {
      const output = createOutput({ json: Boolean(opts.json), quiet: Boolean(opts.quiet) });
      await runDemo({ identities: opts.identities, rate: opts.rate, seed: String(opts.seed), outDir: opts.out, output });
    });

  program
    .command("simulate")
    .description("serve the tenant simulator alone (development only): same options and JSON line as `npm run simulator`; see `uami-audit simulate --help`")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument("[options...]", "the simulator's options (`uami-audit simulate --help` lists them, with examples)")
    .action(async (args: string[]) => {
      const { runSimulatorCli } = await loadSimulatorCli();
      process.exitCode = await runSimulatorCli(["node", "uami-audit simulate", ...args], { name: "uami-audit simulate" });
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  // Known before parsing, so that a usage error is a JSON line too.
  const json = argv.includes("--json");
  const fail = (exitCode: number, message: string, human: string | undefined): number => {
    if (human !== undefined) process.stderr.write(`${human}\n`);
    if (json) process.stdout.write(`${JSON.stringify({ type: "error", message, exitCode })}\n`);
    return exitCode;
  };
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") return EXIT.ok;
      // Commander has written the message already.
      return fail(EXIT.usage, error.message.replace(/^error: /, ""), undefined);
    }
    if (error instanceof UsageError || error instanceof ResumeScopeError) return fail(EXIT.usage, error.message, `error: ${error.message}`);
    const usingStaticToken = argv.includes("--token") || loadCliEnvironment().armToken !== undefined;
    const sentence = credentialProblem(error, usingStaticToken);
    if (sentence) return fail(EXIT.failed, sentence, `error: ${sentence}`);
    if (error instanceof ReportNotReadyError) return fail(EXIT.failed, error.message, `error: ${error.message}`);
    const message = (error as Error).message;
    return fail(EXIT.failed, message, `uami-audit failed: ${message}`);
  }
}

const invokedDirectly = process.argv[1] && /(?:^|[\\/])(?:main\.[jt]s|uami-audit(?:\.js)?)$/.test(process.argv[1]);
if (invokedDirectly) {
  const code = await main(process.argv);
  process.exitCode = code;
  // Keep-alive sockets must not hold the process open once the work is done.
  setTimeout(() => process.exit(code), 200).unref();
}
