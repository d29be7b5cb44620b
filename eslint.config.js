// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { readdirSync } from "node:fs";
import { join } from "node:path";

/**
 * The layers of src/, lowest first. A folder (or top-level module) may import only the layers below its
 * own: never one beside it, never one above. A type several layers share lives in the lowest layer that
 * needs it (src/model/). The README's "Layering" section draws the same order.
 */
export const LAYERS = [
  ["arm"], // the ARM client: imports nothing of ours
  ["model"], // runs, identity results, audit settings: the shared model
  ["queues"], // queue names and messages (src/queues.ts)
  ["store"], // the storage account, tables, queues and blobs
  ["limiter", "activity"], // the per-tenant rate limiter (its rows in storage); sign-ins from Log Analytics
  ["findings"], // verdicts, risk, earlier verdicts
  ["report"], // the report model and its renderers
  ["mail"], // the digest and its transports
  ["config"], // every setting (src/config.ts), with defaults read from the concepts below
  ["audit"], // the audit's steps: start, evidence, checks, completion, the report step
  ["api"], // the HTTP API's behaviour
  ["app"], // the function app's runtime and trigger input, shared by the function files and the CLI
  ["functions", "cli"], // the entry points: Azure Functions, and the uami-audit command
];
/** Top-level modules (src/<name>.ts) among the layers; the rest are folders. */
const MODULES = new Set(["queues", "config"]);
const isModule = (unit) => MODULES.has(unit);
/** Only the entry points and the runtime they share know Azure Functions (src/cli emulates its host). */
const FUNCTIONS_AWARE = new Set(["functions", "cli", "app"]);

// A folder or module of src/ in no layer would escape the rules: name its layer first.
for (const entry of readdirSync(join(import.meta.dirname, "src"), { withFileTypes: true })) {
  const unit = entry.isDirectory() ? entry.name : entry.name.replace(/\.ts$/, "");
  if (entry.isFile() && !entry.name.endsWith(".ts")) continue;
  if (!LAYERS.flat().includes(unit) || entry.isDirectory() === isModule(unit)) {
    throw new Error(`src/${entry.name} is in no layer of eslint.config.js: add it to LAYERS (and to the README's "Layering").`);
  }
}

const SIMULATOR = { group: ["**/simulator/**"], message: "src/ must never import the simulator: it is not shipped." };

/** no-restricted-imports options for one unit: the simulator, @azure/functions where not allowed, and every layer not below it. */
function restrictedImportsFor(unit) {
  const rank = LAYERS.findIndex((layer) => layer.includes(unit));
  const notBelow = LAYERS.slice(rank).flat().filter((other) => other !== unit);
  return {
    paths: FUNCTIONS_AWARE.has(unit)
      ? []
      : [{ name: "@azure/functions", message: "Only src/functions/, src/app/ and the host emulation in src/cli/ may import @azure/functions." }],
    patterns: [
      SIMULATOR,
      ...notBelow.map((other) => ({
        group: [isModule(other) ? `**/${other}.js` : `**/${other}/**`],
        message: `src/${unit}${isModule(unit) ? ".ts" : "/"} may import only layers below it; src/${other}${isModule(other) ? ".ts" : "/"} is ${LAYERS.findIndex((layer) => layer.includes(other)) === rank ? "beside" : "above"} it (eslint.config.js LAYERS, README "Layering").`,
      })),
    ],
  };
}

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", "bin/**", ".package/**", ".tmp/**", "demo-output/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  // One block per layer of src/ (see LAYERS): a later block would replace this rule's options, not add to them.
  ...LAYERS.flat().map((unit) => ({
    files: [isModule(unit) ? `src/${unit}.ts` : `src/${unit}/**/*.ts`],
    rules: { "no-restricted-imports": ["error", restrictedImportsFor(unit)] },
  })),
  {
    // Settings are read once, validated and typed, in src/config.ts; everything else receives them as parameters.
    files: ["src/**/*.ts"],
    ignores: ["src/config.ts"],
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Read settings in src/config.ts (validated and typed there) and pass the values in as parameters." },
      ],
      "no-restricted-syntax": [
        "error",
        {
          selector: "ImportDeclaration[source.value=/^(node:)?process$/] ImportSpecifier[imported.name='env']",
          message: "Read settings in src/config.ts (validated and typed there) and pass the values in as parameters.",
        },
      ],
    },
  },
);
