#!/usr/bin/env node
// In a checkout (src/cli/main.ts and the tsx devDependency present) runs the TypeScript source, so the CLI
// is never an older build: `npm start` and `npm run build` leave a dist/ that goes stale with the next
// edit. Elsewhere (an install without the sources or without tsx), or with UAMI_AUDIT_USE_DIST=1, runs
// the compiled dist/ (`npm run build`).
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "src", "cli", "main.ts");
const compiled = join(root, "dist", "src", "cli", "main.js");

function tsxResolvable() {
  try {
    createRequire(join(root, "package.json")).resolve("tsx/esm/api");
    return true;
  } catch {
    return false;
  }
}

const useSource = process.env.UAMI_AUDIT_USE_DIST !== "1" && existsSync(source) && tsxResolvable();
if (!useSource && existsSync(compiled)) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(source).href);
}
