/**
 * `npm run demo`: `uami-audit demo` (src/cli/demo.ts): the whole audit on one machine, with nothing to
 * configure. Starts the tenant simulator (a generated 300-identity tenant) and an in-memory Azurite, runs a
 * scan against them, and writes the report to demo-output/. Options pass through: `npm run demo -- --json`.
 */
import { main } from "../src/cli/main.js";

const code = await main(["node", "uami-audit", "demo", ...process.argv.slice(2)]);
process.exitCode = code;
// Keep-alive sockets must not hold the process open once the work is done.
setTimeout(() => process.exit(code), 200).unref();
