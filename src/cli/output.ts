/**
 * What a CLI command tells its caller while it runs, in one of four shapes:
 * - `--json`: one JSON object per line on standard output (the line types below, documented in the README),
 *   and nothing else on standard output;
 * - a terminal (standard error is a TTY): a progress bar on standard error;
 * - anything else (a pipe, a CI log): plain progress lines on standard error, no escape sequences;
 * - `--quiet`: no progress at all (results and errors are still written).
 */
import cliProgress from "cli-progress";
import { accountedFor, runPhase, type AuditRun } from "../model/run.js";

export type RunPhaseName = ReturnType<typeof runPhase>;

/** The run's counters as every JSON line about a run gives them. */
export interface RunCountersLine {
  runId: string;
  tenantId: string;
  status: AuditRun["status"];
  phase: RunPhaseName;
  mode: AuditRun["mode"] | null;
  expected: number;
  /** checked + deleted + failed */
  accounted: number;
  checked: number;
  deleted: number;
  failed: number;
  requests: number;
  apiRequests: number;
  throttled: number;
}

/** The JSON lines of `--json`, discriminated by `type` (README "Machine-readable output"). */
export type JsonLine =
  | ({ type: "run"; resumed: boolean; restartedFrom: string | null; storage: "in-memory" | "given"; note?: string | null } & RunCountersLine)
  | ({ type: "progress" } & RunCountersLine)
  | { type: "warning"; message: string }
  | {
      type: "interrupted";
      signal: string;
      runId: string | null;
      resumable: boolean;
      resume: string | null;
      message: string;
      /** Check messages this process handled, and attempts that failed (retried by the queue), when it drained. */
      handled?: number;
      failedAttempts?: number;
    }
  | ({
      type: "result";
      command: "scan" | "worker" | "demo" | "report";
      countsByVerdict: Record<string, number> | null;
      unused: number | null;
      newUnused: number | null;
      emailStatus: string | null;
      exitCode: number;
    } & Partial<RunCountersLine> &
      Record<string, unknown>)
  | { type: "error"; message: string; exitCode: number };

export function runCountersLine(run: AuditRun): RunCountersLine {
  return {
    runId: run.runId,
    tenantId: run.tenantId,
    status: run.status,
    phase: runPhase(run),
    mode: run.mode ?? null,
    expected: run.expected,
    accounted: accountedFor(run),
    checked: run.checked,
    deleted: run.deleted,
    failed: run.failed,
    requests: run.requests,
    apiRequests: run.apiRequests,
    throttled: run.throttled,
  };
}

export interface CliOutput {
  readonly json: boolean;
  /** A JSON line on standard output (`--json` only; ignored otherwise). */
  line(value: JsonLine): void;
  /** A sentence for a person on standard error (not in `--json` mode, where a JSON line says it). */
  say(text: string): void;
  /** A warning: a `warning` line in `--json` mode, `warning: ...` on standard error otherwise. */
  warn(text: string): void;
  /** The run as last read: bar, plain line or `progress` line, each only when something changed. */
  progress(run: AuditRun): void;
  /** Ends the progress display (the bar's last frame). */
  stop(): void;
}

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  /** Where human text and progress go; default standard error. */
  stream?: NodeJS.WriteStream;
  /** Overrides `stream.isTTY` (tests). */
  tty?: boolean;
  /** Plain progress lines at most this often, phase changes aside; default 5 s. */
  plainIntervalMs?: number;
}

function progressKey(line: RunCountersLine): string {
  return [line.status, line.phase, line.mode, line.expected, line.accounted, line.apiRequests, line.throttled].join("|");
}

function phaseText(line: RunCountersLine): string {
  const mode = line.mode ? ` (${line.mode} mode)` : "";
  switch (line.phase) {
    case "inventory":
      return "listing identities (Resource Graph)";
    case "sweep":
      return `${line.expected || "the"} identities listed; gathering evidence (API probe, reference sweep, creation times)`;
    case "checks":
      return line.status === "enumerating"
        ? `evidence gathered${mode}; recording the identities Resource Graph shows in use and sending the checks`
        : `checks${mode}: ${line.accounted}/${line.expected} identities accounted for, ${line.apiRequests} listAssociatedResources requests`;
    case "report":
      return `complete: ${line.accounted}/${line.expected}; building the report`;
    case "done":
      return `complete: ${line.accounted}/${line.expected}, report built`;
    case "failed":
      return "failed";
  }
}

export function createOutput(options: OutputOptions): CliOutput {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? Boolean(stream.isTTY);
  const plainIntervalMs = options.plainIntervalMs ?? 5000;
  let lastKey = "";
  let lastPlain = { at: 0, phase: "", tenth: -1 };
  let bar: cliProgress.SingleBar | undefined;

  const writeJson = (value: JsonLine) => process.stdout.write(`${JSON.stringify(value)}\n`);

  const plainProgress = (line: RunCountersLine) => {
    const tenth = line.expected > 0 ? Math.floor((10 * line.accounted) / line.expected) : -1;
    const now = Date.now();
    const phase = `${line.status}/${line.phase}`;
    if (phase === lastPlain.phase && (now - lastPlain.at < plainIntervalMs || tenth === lastPlain.tenth)) return;
    lastPlain = { at: now, phase, tenth };
    stream.write(`run ${line.runId}: ${phaseText(line)}\n`);
  };

  const barProgress = (line: RunCountersLine) => {
    if (!bar) {
      bar = new cliProgress.SingleBar({ format: "checked {value}/{total} | {status}", stream, hideCursor: true }, cliProgress.Presets.shades_classic);
      bar.start(0, 0, { status: "inventory" });
    }
    bar.setTotal(line.expected);
    bar.update(line.accounted, { status: `${line.phase}${line.mode ? ` (${line.mode} mode)` : ""}` });
  };

  return {
    json: options.json,
    line(value) {
      if (options.json) writeJson(value);
    },
    say(text) {
      if (options.json) return;
      if (bar) {
        bar.stop();
        bar = undefined;
      }
      stream.write(`${text}\n`);
    },
    warn(text) {
      if (options.json) writeJson({ type: "warning", message: text });
      else this.say(`warning: ${text}`);
    },
    progress(run) {
      const line = runCountersLine(run);
      const key = progressKey(line);
      if (key === lastKey) return;
      lastKey = key;
      if (options.json) writeJson({ type: "progress", ...line });
      else if (options.quiet) return;
      else if (tty) barProgress(line);
      else plainProgress(line);
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
