/**
 * A full-size run: the server answers each ARG page by running a query over 100k+ rows. No timing
 * assertion (CI machines vary); this checks the big run is correct, and prints the time for a human.
 */
import { describe, expect, it } from "vitest";
import { compileKql, type KqlRow } from "./index.js";

const ROWS = 100_000;

function syntheticResources(): KqlRow[] {
  const rows: KqlRow[] = [];
  for (let i = 0; i < ROWS; i++) {
    // A scrambled order so that the sort has real work to do.
    const n = (i * 7919) % ROWS;
    const isIdentity = n % 4 !== 0;
    const name = `res-${String(n).padStart(6, "0")}`;
    rows.push({
      id: `/subscriptions/sub-${n % 20}/resourceGroups/rg-${n % 97}/providers/${isIdentity ? "Microsoft.ManagedIdentity/userAssignedIdentities" : "Microsoft.Compute/virtualMachines"}/${name}`,
      name,
      type: isIdentity ? "Microsoft.ManagedIdentity/userAssignedIdentities" : "microsoft.compute/virtualmachines",
      subscriptionId: `sub-${n % 20}`,
      resourceGroup: `rg-${n % 97}`,
      location: "westeurope",
      tenantId: "tenant",
      properties: { principalId: `principal-${n}`, clientId: `client-${n}` },
      tags: n % 2 === 0 ? { n: String(n) } : null,
    });
  }
  return rows;
}

describe("a 100k-row table", () => {
  it("answers where + project + order by correctly", () => {
    const resources = syntheticResources();
    const query = compileKql(`resources
| where type =~ 'microsoft.managedidentity/userassignedidentities'
| project id, name, principalId = tostring(properties.principalId), tags
| order by id asc`);

    const started = performance.now();
    const { rows } = query.run({ resources });
    const elapsed = performance.now() - started;
    console.info(`kql: where+project+order by over ${ROWS} rows took ${elapsed.toFixed(0)} ms`);

    const expected = resources.filter((r) => String(r.type).toLowerCase() === "microsoft.managedidentity/userassignedidentities");
    expect(rows).toHaveLength(expected.length);
    expect(rows.length).toBe(ROWS - ROWS / 4);
    for (let i = 1; i < rows.length; i++) {
      if (!(String(rows[i - 1]?.id) < String(rows[i]?.id))) throw new Error(`rows ${i - 1} and ${i} are out of order`);
    }
    const byName = new Map(expected.map((r) => [r.name, r]));
    for (const row of rows) {
      const source = byName.get(row.name);
      expect(source).toBeDefined();
      if (row.principalId !== (source?.properties as { principalId: string }).principalId || row.tags !== source?.tags) {
        throw new Error(`row ${String(row.name)} was projected wrongly`);
      }
    }
  });
});
