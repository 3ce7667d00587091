import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/setup/system-packages.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    coverage: {
      provider: "v8",
      include: ["protocol/**/*.ts", "hub/**/*.ts", "firmware/**/*.ts", "hardware/**/*.ts"],
      exclude: ["test/**", "**/index.ts"],
      reporter: ["text-summary", "text"],
      thresholds: {
        "protocol/**/*.ts": { lines: 90, statements: 90, functions: 90, branches: 85 },
        "hub/core/**/*.ts": { lines: 90, statements: 90, functions: 90, branches: 85 },
      },
    },
  },
});
