/**
 * Headless Chromium for tests that look at a page as a person would. Debian's `chromium` package, not a
 * Playwright browser download (none can be fetched here): playwright-core only drives it.
 */
import { accessSync, constants, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type BrowserContextOptions } from "playwright-core";

export const CHROMIUM_MISSING = "Chromium not found: install Debian's chromium: .ci/run does it (or set CHROMIUM_PATH)";

/**
 * Flags this machine needs: no network but the package registries (so no background, component, sync or
 * QUIC traffic), root (so no sandbox), no GPU.
 */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
] as const;

/**
 * `CHROMIUM_PATH` when set (and then only it: a wrong explicit path must not quietly test another browser),
 * else `/usr/bin/chromium`, else `/usr/bin/chromium-browser`; undefined when none is an executable file.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = env.CHROMIUM_PATH ? [env.CHROMIUM_PATH] : ["/usr/bin/chromium", "/usr/bin/chromium-browser"];
  return candidates.find(isExecutable);
}

/** The message a test gives when Chromium is missing: where it looked and how to get it. */
export function chromiumMissingMessage(env: NodeJS.ProcessEnv = process.env): string {
  const looked = env.CHROMIUM_PATH ? `CHROMIUM_PATH=${env.CHROMIUM_PATH}` : "/usr/bin/chromium, /usr/bin/chromium-browser";
  return `${CHROMIUM_MISSING} (looked at ${looked})`;
}

/**
 * Call at the start of a browser test: skips it when Chromium is missing on a developer's machine, fails it
 * in CI (`CI` set), where a skipped browser check would look like a passed one.
 */
export function requireChromium(context: { skip: (note?: string) => never }, env: NodeJS.ProcessEnv = process.env): string {
  const executablePath = findChromium(env);
  if (executablePath) return executablePath;
  if (env.CI) throw new Error(chromiumMissingMessage(env));
  return context.skip(chromiumMissingMessage(env));
}

export interface LaunchedChromium {
  context: BrowserContext;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/** Chromium with a fresh temporary profile (`--user-data-dir`), removed again by `close`. */
export async function launchChromium(executablePath: string, options: BrowserContextOptions = {}): Promise<LaunchedChromium> {
  const userDataDir = await mkdtemp(join(tmpdir(), "uami-chromium-"));
  try {
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: [...CHROMIUM_ARGS],
      timeout: 30_000,
      ...options,
    });
    return {
      context,
      close: async () => {
        try {
          await context.close();
        } finally {
          await rm(userDataDir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await rm(userDataDir, { recursive: true, force: true });
    throw error;
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
