/**
 * `npm run package`: the deployment package, holding what the Functions host runs and nothing else.
 *
 * - `.package/app/`: the compiled JavaScript of the function files (`src/functions/*.ts`) and of everything
 *   they import, so not the developer CLI (`src/cli`, which needs devDependencies such as Azurite and tsx,
 *   and whose state cannot block a deployment), `host.json`, a `package.json` cut down to what the host reads
 *   (`type`, `main`, `dependencies`), and `node_modules` with the production dependencies only, installed
 *   from the lockfile (`npm ci --omit=dev`). azd zips and uploads exactly this folder: azure.yaml points its
 *   `dist` at it, runs this script as the service's `prepackage` hook and sets `remoteBuild: false`.
 * - `.package/uami-audit.zip`: the same files zipped, as azd uploads them (test/deploy/package.test.ts
 *   unzips it and loads every function with plain Node).
 *
 * Why not a remote build: it would install every devDependency on the build host (the `node` package
 * alone is 185 MB) and needs the TypeScript sources in the upload; a local build ships the same bytes that
 * were tested.
 */
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { copyFile, lstat, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { once } from "node:events";
import yazl from "yazl";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Where `npm run package` writes, relative to the repository (azure.yaml's `dist` is `${PACKAGE_DIR}/${APP_DIR}`). */
export const PACKAGE_DIR = ".package";
export const APP_DIR = "app";
export const ZIP_NAME = "uami-audit.zip";

/** The function files the host loads (package.json `main`); the compiler follows their imports. */
const ENTRY_POINTS = "src/functions/*.ts";

/** The package.json fields the Functions host and Node read; scripts and devDependencies stay behind. */
const KEPT_PACKAGE_FIELDS = ["name", "version", "description", "license", "type", "main", "engines", "dependencies"] as const;

/** A fixed timestamp for every zip entry: the same inputs give the same zip. */
const ZIP_MTIME = new Date("2000-01-01T00:00:00Z");

export interface PackageOptions {
  /** The repository to package. Default: this repository. */
  root?: string;
  /** Output folder (emptied first). Default: `<root>/.package`. */
  outDir?: string;
  /** Progress lines. Default: none. */
  log?: (line: string) => void;
}

export interface PackageResult {
  appDir: string;
  zipPath: string;
  /** Relative paths (with `/`) of every file in the package, sorted. */
  files: string[];
  zipBytes: number;
  unpackedBytes: number;
}

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    // On Windows `npm` is a .cmd script, which only a shell can start.
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"], shell: process.platform === "win32" });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-8000)));
    child.stderr.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-8000)));
    child.once("error", reject);
    child.once("exit", (code, signal) =>
      code === 0 ? resolvePromise() : reject(new Error(`${command} ${args.join(" ")} failed (${signal ?? `exit ${code}`}) in ${cwd}:\n${output}`)),
    );
  });
}

/** npm's own CLI when run from an npm script (same npm as the caller), else `npm` from PATH. */
function npmCommand(): [string, string[]] {
  const execPath = process.env.npm_execpath;
  if (execPath && /npm-cli\.[cm]?js$/.test(execPath)) return [process.execPath, [execPath]];
  return ["npm", []];
}

async function listFiles(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full, base)));
    else if (entry.isFile()) out.push(relative(base, full).split(sep).join("/"));
    else throw new Error(`package: ${full} is neither a file nor a folder (a symlink?); the zip would not reproduce it`);
  }
  return out;
}

async function zipFolder(dir: string, files: string[], zipPath: string): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const file of files) {
    const { mode } = await lstat(join(dir, file));
    zip.addFile(join(dir, file), file, { mtime: ZIP_MTIME, mode });
  }
  zip.end();
  const out = createWriteStream(zipPath);
  zip.outputStream.pipe(out);
  await once(out, "close");
}

export async function buildPackage(options: PackageOptions = {}): Promise<PackageResult> {
  const root = options.root ?? ROOT;
  const outDir = options.outDir ?? join(root, PACKAGE_DIR);
  const appDir = join(outDir, APP_DIR);
  const zipPath = join(outDir, ZIP_NAME);
  const log = options.log ?? (() => {});

  await rm(outDir, { recursive: true, force: true });
  await mkdir(appDir, { recursive: true });

  log(`compiling ${ENTRY_POINTS} and what they import (tsconfig.build.json's options)`);
  // tsconfig.build.json's compiler options, but only the function files as roots: dist/src/... keeps the
  // layout `main` expects (rootDir is the repository), and no source map points at a file not shipped.
  const tsconfig = join(outDir, "tsconfig.package.json");
  await writeFile(
    tsconfig,
    JSON.stringify({
      extends: join(root, "tsconfig.build.json"),
      compilerOptions: { rootDir: root, outDir: join(appDir, "dist"), sourceMap: false, typeRoots: [join(root, "node_modules", "@types")] },
      include: [join(root, ENTRY_POINTS)],
    }),
  );
  await run(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", tsconfig], root);
  await rm(tsconfig);

  await copyFile(join(root, "host.json"), join(appDir, "host.json"));
  await copyFile(join(root, "package.json"), join(appDir, "package.json"));
  await copyFile(join(root, "package-lock.json"), join(appDir, "package-lock.json"));

  log("installing production dependencies (npm ci --omit=dev)");
  const [npm, npmArgs] = npmCommand();
  // --ignore-scripts: no production dependency has an install script, and this package's own scripts are
  // for development. --no-bin-links: the host needs no .bin links, and a zip would turn them into copies.
  await run(npm, [...npmArgs, "ci", "--omit=dev", "--ignore-scripts", "--no-bin-links", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], appDir);

  const manifest = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as Record<string, unknown>;
  const kept = Object.fromEntries(KEPT_PACKAGE_FIELDS.filter((field) => field in manifest).map((field) => [field, manifest[field]]));
  await writeFile(join(appDir, "package.json"), `${JSON.stringify(kept, null, 2)}\n`);
  // The lockfile lists every devDependency; what was installed is in node_modules/.package-lock.json.
  await rm(join(appDir, "package-lock.json"));

  const files = (await listFiles(appDir)).sort();
  let unpackedBytes = 0;
  for (const file of files) unpackedBytes += (await stat(join(appDir, file))).size;

  log(`zipping ${files.length} files`);
  await zipFolder(appDir, files, zipPath);
  const zipBytes = (await stat(zipPath)).size;
  return { appDir, zipPath, files, zipBytes, unpackedBytes };
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const started = Date.now();
  const result = await buildPackage({ log: (line) => console.log(`package: ${line}`) });
  console.log(
    `package: ${relative(ROOT, result.zipPath)} ${megabytes(result.zipBytes)} (${megabytes(result.unpackedBytes)} unpacked, ${result.files.length} files) ` +
      `from ${relative(ROOT, result.appDir)} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
}
