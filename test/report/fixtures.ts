/**
 * One run's worth of report input, covering every verdict, several risk levels, two subscriptions and
 * hostile values from Azure (anyone who can create or tag an identity controls names and tags).
 */
import type { BuildReportInput } from "../../src/report/model.js";
import type { HistoryEntry } from "../../src/findings/history.js";
import type { Verdict } from "../../src/findings/verdicts.js";
import { NOW, RUN_ID, SUBSCRIPTION_ID, auditRun, identityResult, roleAssignment, verdictOptions } from "../findings/builders.js";

export const OTHER_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000002";
export const HOSTILE_NAME = `<script>alert(1)</script>`;
export const UNICODE_RG = "rg-é-日本";
export const SUB = `/subscriptions/${SUBSCRIPTION_ID}`;

export function reportInput(overrides: Partial<BuildReportInput> = {}): BuildReportInput {
  const ownerAtSubscription = identityResult({ name: "id-owner-sub", tags: { env: "prod" } });
  const hostile = identityResult({
    name: HOSTILE_NAME,
    resourceGroup: UNICODE_RG,
    tags: {
      "=cmd|' /C calc'!A0": "@SUM(1+1)",
      note: `Tom & "Jerry" 'x'`,
      pipe: "a|b `code` [link](x)\nnext line",
      "+plus": "-minus",
    },
  });
  const contributorAtRg = identityResult({ name: "id-rg-contributor" });
  const otherSubscription = identityResult({ name: "id-other-sub", subscriptionId: OTHER_SUBSCRIPTION_ID });
  const federated = identityResult({ name: "id-github", federatedCredentialCount: 2 });
  const recent = identityResult({ name: "id-new", createdAt: "2026-11-29T12:00:00Z" });
  const exempt = identityResult({ name: "id-kept", tags: { "UAMI-AUDIT-EXEMPT": "ticket-123" } });
  const failed = identityResult({ name: "id-failed", status: "error", error: `<b>boom</b> & "quoted"`, associationCount: undefined });
  const pending = identityResult({ name: "id-pending", status: "pending", associationCount: undefined, federatedCredentialCount: undefined });
  const deleted = identityResult({ name: "id-gone", status: "deleted" });
  const inUse = [1, 2].map((index) =>
    identityResult({
      name: `id-in-use-${index}`,
      associationCount: index,
      associations: [
        {
          id: `${SUB}/resourceGroups/rg-app/providers/Microsoft.Web/sites/app-${index}`,
          name: `app-${index}`,
          type: "microsoft.web/sites",
          resourceGroup: "rg-app",
          subscriptionId: SUBSCRIPTION_ID,
          subscriptionDisplayName: "Contoso <Prod> & Co",
        },
      ],
    }),
  );

  const identities = [recent, hostile, inUse[0]!, federated, contributorAtRg, exempt, failed, ownerAtSubscription, pending, deleted, otherSubscription, inUse[1]!];

  const roleAssignments = [
    roleAssignment({ id: "ra-1", principalId: ownerAtSubscription.principalId.toUpperCase(), roleName: "Owner", scope: SUB }),
    roleAssignment({ id: "ra-2", principalId: ownerAtSubscription.principalId, roleName: "Reader", scope: `${SUB}/resourceGroups/rg-app` }),
    roleAssignment({ id: "ra-3", principalId: contributorAtRg.principalId, roleName: "Contributor", scope: `${SUB}/resourceGroups/rg-app` }),
    roleAssignment({ id: "ra-4", principalId: federated.principalId, roleName: "Owner", scope: "/" }),
    roleAssignment({ id: "ra-5", principalId: otherSubscription.principalId, roleName: "Reader", scope: `/subscriptions/${OTHER_SUBSCRIPTION_ID}` }),
  ];

  const runs = (verdicts: Array<[string, Verdict]>): HistoryEntry[] =>
    verdicts.map(([day, verdict]) => ({ runId: `run-${day}`, startedAt: `2026-11-${day}T06:00:00.000Z`, verdict }));
  const history = new Map<string, HistoryEntry[]>([
    [ownerAtSubscription.id.toLowerCase(), runs([["10", "in-use"], ["17", "unused"], ["24", "unused"]])],
    [contributorAtRg.id.toLowerCase(), runs([["17", "unused"], ["24", "recent"]])],
  ]);
  const previousRunVerdicts = new Map<string, Verdict>([
    [ownerAtSubscription.id.toLowerCase(), "unused"],
    [contributorAtRg.id.toLowerCase(), "recent"],
    [otherSubscription.id.toLowerCase(), "unused"],
  ]);

  return {
    run: auditRun({ runId: RUN_ID, expected: identities.length, checked: 9, failed: 1, deleted: 1, requests: 40, throttled: 3 }),
    identities,
    roleAssignments,
    history,
    previousRunVerdicts,
    options: verdictOptions({ now: NOW }),
    ...overrides,
  };
}

/** A small RFC 4180 reader, enough to check what a spreadsheet would see. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const character = text[index];
    if (quoted) {
      if (character === '"' && text[index + 1] === '"') {
        field += '"';
        index++;
      } else if (character === '"') quoted = false;
      else field += character;
    } else if (character === '"') quoted = true;
    else if (character === ",") {
      row.push(field);
      field = "";
    } else if (character === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += character;
  }
  if (field !== "" || row.length > 0) rows.push([...row, field]);
  return rows;
}
