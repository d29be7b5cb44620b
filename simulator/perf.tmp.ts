import { generateTenant } from "./index.js";
const gc = (globalThis as { gc?: () => void }).gc!;
gc();
const m0 = process.memoryUsage().heapUsed;
const t0 = performance.now();
const tenant = generateTenant({ seed: "perf", identities: 100_000 });
console.log("generate 100k:", Math.round(performance.now() - t0), "ms");
gc();
console.log("retained heap +", Math.round((process.memoryUsage().heapUsed - m0) / 1e6), "MB", tenant.identities.length);
