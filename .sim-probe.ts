import { startSimulator } from "./simulator/index.js";
const sim = await startSimulator({ identities: 5, seed: 1, rate: 10 });
console.log(JSON.stringify({ endpoint: sim.endpoint, caFile: sim.caFile, tenant: sim.tenants[0]!.tenantId, token: sim.tenants[0]!.token }));
setTimeout(() => sim.close(), 600_000);
