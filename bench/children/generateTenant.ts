/**
 * Child of bench/simulatorGeneration.ts: generates one tenant in a fresh process, then prints
 * `{"identities","seconds","baselineHwmBytes","peakHwmBytes","heapUsedBytes"}` on one line.
 * Usage: node --import tsx bench/children/generateTenant.ts --identities 100000 --seed 1
 */
import { parseArgs } from "node:util";
import { generateTenant } from "../../simulator/index.js";
import { procStatusBytes } from "../processMemory.js";

const { values } = parseArgs({ options: { identities: { type: "string" }, seed: { type: "string", default: "bench" } } });
const identities = Number(values.identities);
if (!Number.isInteger(identities) || identities < 0) throw new TypeError(`--identities must be a whole number, got ${String(values.identities)}`);

// The peak so far covers Node, tsx and the simulator's modules: what generation adds is measured against it.
const baselineHwmBytes = procStatusBytes("VmHWM");
const started = performance.now();
const tenant = generateTenant({ seed: values.seed, identities });
const seconds = (performance.now() - started) / 1000;
const peakHwmBytes = procStatusBytes("VmHWM");
const heapUsedBytes = process.memoryUsage().heapUsed;

process.stdout.write(`${JSON.stringify({ identities: tenant.identities.length, seconds, baselineHwmBytes, peakHwmBytes, heapUsedBytes })}\n`);
