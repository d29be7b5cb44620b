import { startSimulator } from "./simulator/index.js";
import { runScan } from "./src/cli/scan.js";
import { listIdentityResults } from "./src/store/identityResults.js";
import { writeFileSync } from "node:fs";
const sim = await startSimulator({ identities: 60, seed: 3, rate: 50 });
const t = sim.tenants[0]!;
const t0 = Date.now();
const result = await runScan({ tenantId: t.tenantId, scope: { subscriptions: [], managementGroups: [] }, armEndpoint: sim.endpoint, token: t.token, caFile: sim.caFile, ratePerSecond: 50, rateSafetyMs: 0, workers: 4, logHandler: (l, ...a) => { if (l === "error" || l === "warning") console.log(l, ...a); } });
console.log("run", result.run, Date.now() - t0, "ms");
let mismatches = 0, n = 0;
for await (const r of listIdentityResults(result.deps.storage, result.run.runId)) {
  n++;
  const truth = sim.truth.identity(r.id);
  if (!truth || truth.associationCount !== r.associationCount || truth.federatedCredentialCount !== r.federatedCredentialCount) { mismatches++; if (mismatches < 5) console.log("mismatch", r.id, r.status, r.associationCount, truth?.associationCount, r.error); }
}
console.log({ n, mismatches, truth: sim.truth.tenants[0]!.identities.length });
console.log(result.report?.run.countsByVerdict);
writeFileSync("/tmp/report.html", (await import("./src/report/render.js")).renderReport(result.report!, "html").body);
await result.close(); await sim.close();
