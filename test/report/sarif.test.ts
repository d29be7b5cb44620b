/**
 * The SARIF report, validated against the OASIS SARIF 2.1.0 JSON schema with Ajv, and checked for what
 * GitHub code scanning needs (rules with descriptions and help, a location and a fingerprint per result).
 *
 * test/report/sarif-schema-2.1.0.json is the OASIS schema (draft-07, `$id`
 * https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json) as the npm
 * package @datadog/datadog-ci@2.48.0 (Apache-2.0) ships it, at dist/commands/sarif/json-schema/
 * sarif-schema-2.1.0.json: taken with `npm pack @datadog/datadog-ci@2.48.0` rather than installed (that
 * package pulls in cloud SDKs). Its sha256 is checked below, so an edit shows.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { beforeAll, describe, expect, it } from "vitest";
import { buildReport } from "../../src/report/model.js";
import { renderReport } from "../../src/report/render.js";
import { renderSarif, sarifText } from "../../src/report/sarif.js";
import { auditRun } from "../findings/builders.js";
import { HOSTILE_NAME, reportInput } from "./fixtures.js";
import { largeReport } from "./largeReport.js";

const SCHEMA_FILE = new URL("./sarif-schema-2.1.0.json", import.meta.url);
const SCHEMA_SHA256 = "10666d46649b52e262001e70d43e6c52f7c0279ca3dbdfe9a7dc2e4071556454";

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  kind: string;
  level: string;
  message: { text: string };
  locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: Record<string, number> }; logicalLocations: Array<{ fullyQualifiedName: string; kind: string }> }>;
  partialFingerprints: Record<string, string>;
  baselineState?: string;
  properties: Record<string, unknown>;
}
interface SarifLog {
  $schema: string;
  version: string;
  runs: Array<{
    tool: { driver: { name: string; rules: Array<{ id: string; shortDescription: { text: string }; fullDescription: { text: string }; help: { text: string }; properties: Record<string, unknown> }> } };
    automationDetails: { id: string };
    invocations: Array<{ executionSuccessful: boolean; toolExecutionNotifications: Array<{ level: string; message: { text: string }; descriptor: { id: string } }> }>;
    results: SarifResult[];
  }>;
}

let validate: ValidateFunction;

beforeAll(() => {
  const text = readFileSync(SCHEMA_FILE, "utf8");
  expect(createHash("sha256").update(text).digest("hex")).toBe(SCHEMA_SHA256);
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats.default(ajv);
  validate = ajv.compile(JSON.parse(text) as object);
});

function expectValid(document: unknown): void {
  const valid = validate(document);
  expect(valid ? [] : validate.errors?.slice(0, 10).map((error) => `${error.instancePath} ${error.message}`)).toEqual([]);
}

describe("the SARIF report", () => {
  const report = buildReport(reportInput());
  const rendered = renderReport(report, "sarif");
  const log = JSON.parse(rendered.body) as SarifLog;
  const run = log.runs[0]!;

  it("is served as SARIF, in a .sarif file", () => {
    expect(rendered.contentType).toBe("application/sarif+json; charset=utf-8");
    expect(rendered.fileExtension).toBe("sarif");
    expect(rendered.body.endsWith("}\n")).toBe(true);
    expect(renderSarif(report)).toBe(rendered.body);
  });

  it("validates against the SARIF 2.1.0 JSON schema", () => {
    expect(log.version).toBe("2.1.0");
    expect(log.$schema).toBe("https://json.schemastore.org/sarif-2.1.0.json");
    expectValid(log);
  });

  it("the schema check is real: a broken log fails it", () => {
    const broken = structuredClone(log) as unknown as { runs: Array<{ results: Array<Record<string, unknown>> }> };
    broken.runs[0]!.results[0]!.level = "critical";
    expect(validate(broken)).toBe(false);
  });

  it("has one result per unused, signed-in and federated identity, at the documented kinds and levels", () => {
    const unused = run.results.filter((result) => result.kind === "fail");
    expect(unused.map((result) => result.properties.verdict)).toEqual(report.unused.map(() => "unused"));
    expect(unused.map((result) => [result.ruleId, result.level])).toEqual(
      report.unused.map((finding) => {
        const level = { critical: "error", high: "error", medium: "warning", low: "note", none: "note" }[finding.risk.level];
        return [finding.risk.level === "none" ? "uami-audit/unused-identity-no-roles" : `uami-audit/unused-identity-${finding.risk.level}`, level];
      }),
    );
    const review = run.results.filter((result) => result.kind === "review");
    expect(review.map((result) => [result.ruleId, result.level])).toEqual([["uami-audit/federated-credentials-only", "none"]]);
    expect(run.results).toHaveLength(report.unused.length + report.federated.length + report.active.length);
    // Recent, exempt, deleted and in-use identities are not results.
    const named = run.results.map((result) => result.locations[0]!.logicalLocations[0]!.fullyQualifiedName);
    for (const finding of [...report.recent, ...report.exempt, ...report.deleted, ...report.inUse]) expect(named).not.toContain(finding.id);
  });

  it("gives every result what GitHub code scanning needs: a rule with text, a location, a fingerprint", () => {
    const rules = run.tool.driver.rules;
    for (const rule of rules) {
      expect(rule.shortDescription.text.length).toBeGreaterThan(10);
      expect(rule.fullDescription.text.length).toBeLessThanOrEqual(1024);
      expect(rule.help.text.length).toBeGreaterThan(10);
      expect(Number(rule.properties["security-severity"])).toBeGreaterThan(0);
      expect(rule.properties.tags).toContain("security");
    }
    for (const result of run.results) {
      expect(rules[result.ruleIndex]!.id).toBe(result.ruleId);
      const location = result.locations[0]!;
      // The ARM id as a relative URI: its segments percent-encoded, nothing else.
      expect(location.physicalLocation.artifactLocation.uri).toMatch(/^subscriptions\/[0-9a-f-]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/.+$/);
      expect(location.physicalLocation.artifactLocation.uri).toMatch(/^[A-Za-z0-9\-._~%/]+$/);
      expect(location.physicalLocation.region).toEqual({ startLine: 1, startColumn: 1, endLine: 1, endColumn: 1 });
      expect(location.logicalLocations[0]!.kind).toBe("resource");
      expect(result.partialFingerprints.primaryLocationLineHash).toMatch(/^[0-9a-f]{16}:1$/);
    }
    const fingerprints = run.results.map((result) => result.partialFingerprints.primaryLocationLineHash);
    expect(new Set(fingerprints).size).toBe(fingerprints.length);
    // The same identity has the same fingerprint in the next run.
    const again = JSON.parse(renderSarif(buildReport({ ...reportInput(), run: auditRun({ runId: "run-2026-12-02", startedAt: "2026-12-02T06:00:00.000Z" }) }))) as SarifLog;
    expect(again.runs[0]!.results.map((result) => result.partialFingerprints.primaryLocationLineHash).sort()).toEqual(
      run.results.map((result) => result.partialFingerprints.primaryLocationLineHash).sort(),
    );
  });

  it("marks new unused identities as new, the others as unchanged", () => {
    const unused = run.results.filter((result) => result.kind === "fail");
    expect(unused.map((result) => result.baselineState)).toEqual(report.unused.map((finding) => (finding.isNew ? "new" : "unchanged")));
    expect(unused.map((result) => result.baselineState)).toContain("new");
    expect(unused.map((result) => result.baselineState)).toContain("unchanged");
  });

  it("reports identities that could not be checked as tool notifications, not results", () => {
    const notifications = run.invocations[0]!.toolExecutionNotifications.filter((n) => n.descriptor.id === "uami-audit/not-checked");
    expect(notifications).toHaveLength(report.error.length);
    expect(notifications.map((n) => n.message.text).join("\n")).toContain("id-failed could not be checked: <b>boom</b> & \"quoted\"");
    expect(run.invocations[0]!.executionSuccessful).toBe(true);
    expect(run.automationDetails.id).toBe(`uami-audit/${report.run.tenantId}/tenant/${report.run.runId}`);
  });

  it("says when the run did not complete, and puts a scoped run in its own category", () => {
    const failed = buildReport(reportInput({ run: { ...reportInput().run, status: "failed", error: "quota", scope: { subscriptions: ["AAA"], managementGroups: [] } } }));
    const failedLog = JSON.parse(renderSarif(failed)) as SarifLog;
    expectValid(failedLog);
    expect(failedLog.runs[0]!.invocations[0]!.executionSuccessful).toBe(false);
    expect(failedLog.runs[0]!.invocations[0]!.toolExecutionNotifications[0]).toMatchObject({ level: "error", descriptor: { id: "uami-audit/run-incomplete" } });
    expect(failedLog.runs[0]!.automationDetails.id).toMatch(new RegExp(`^uami-audit/${failed.run.tenantId}/scope-[0-9a-f]{12}/${failed.run.runId}$`));
  });

  it("keeps values from Azure from becoming embedded links or placeholders in messages", () => {
    expect(sarifText("see [docs](https://evil.example) {0} a\\[b")).toBe("see \\[docs\\](https://evil.example) {{0}} a\\\\\\[b");
    expect(sarifText("line\nbreak")).toBe("line break");
    const input = reportInput();
    const lure = buildReport({ ...input, subscriptionNames: new Map([[input.identities[1]!.subscriptionId.toLowerCase(), "[click](https://evil.example/{0})"]]) });
    const lureLog = JSON.parse(renderSarif(lure)) as SarifLog;
    expectValid(lureLog);
    const texts = lureLog.runs[0]!.results.map((result) => result.message.text);
    expect(texts.some((text) => text.includes("\\[click\\](https://evil.example/{{0}})"))).toBe(true);
    for (const text of texts) expect(text).not.toMatch(/(^|[^\\])\[[^\]]*\]\(/);
    // Raw values stay raw in the property bags (JSON escaping is the reader's business).
    expect(lureLog.runs[0]!.results.some((result) => result.properties.subscriptionName === "[click](https://evil.example/{0})")).toBe(true);
    expect(JSON.parse(renderSarif(lure)).runs[0].results.some((result: SarifResult) => result.message.text.includes(HOSTILE_NAME))).toBe(true);
  });

  it("validates for a 10,000-identity tenant, one result per unused or review identity", () => {
    const large = largeReport();
    const largeLog = JSON.parse(renderSarif(large)) as SarifLog;
    expectValid(largeLog);
    expect(largeLog.runs[0]!.results).toHaveLength(large.unused.length + large.active.length + large.federated.length);
  });
});
