// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", "bin/**", ".package/**", ".tmp/**", "demo-output/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // The simulator is not shipped: nothing in src/ may depend on it (tests and benchmarks may).
    files: ["src/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["**/simulator/**"], message: "src/ must never import the simulator: it is not shipped." }] },
      ],
    },
  },
  {
    // The product's core modules know nothing of Azure Functions: only src/functions wires triggers.
    files: ["src/**/*.ts"],
    // src/cli emulates the Functions host (it builds InvocationContexts), so it may import it too.
    ignores: ["src/functions/**", "src/cli/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [{ name: "@azure/functions", message: "Only src/functions/ (and the host emulation in src/cli/) may import @azure/functions." }],
          patterns: [{ group: ["**/simulator/**"], message: "src/ must never import the simulator." }],
        },
      ],
    },
  },
);
