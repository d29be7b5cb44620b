import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "simulator/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: integration tests share one Azurite and time-sensitive rate tests must not starve.
    maxWorkers: 2,
    reporters: ["default", "./test/setup/summaryReporter.ts"],
    globalSetup: ["test/setup/azurite.global.ts"],
  },
});
