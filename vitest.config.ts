import { defineConfig } from "vitest/config";

/** Tests whose assertions are about wall-clock rates: they run alone, after everything else. */
const TIMING = ["test/audit/globalRate.test.ts", "test/audit/limiterSkew.test.ts"];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: integration tests share one Azurite and time-sensitive rate tests must not starve.
    maxWorkers: 2,
    reporters: ["default", "./test/setup/summaryReporter.ts"],
    globalSetup: ["test/setup/azurite.global.ts"],
    projects: [
      {
        extends: true,
        test: {
          name: "suite",
          include: ["test/**/*.test.ts", "simulator/**/*.test.ts"],
          exclude: TIMING,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: "timing",
          include: TIMING,
          // A CPU stall in a neighbouring test would show up as a request arriving early: give them the machine.
          sequence: { groupOrder: 1 },
          maxWorkers: 1,
        },
      },
    ],
  },
});
