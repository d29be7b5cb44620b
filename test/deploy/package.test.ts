/**
 * The deployment package (scripts/package.ts, `npm run package`): built as azd builds it, into a temporary
 * folder, then checked for what it must hold (the compiled functions, host.json, production dependencies)
 * and what it must not (devDependencies, sources, tests, the simulator), unzipped outside the repository and
 * loaded with plain Node, no NODE_PATH, no tsx, only the node_modules inside the zip.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, parse } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import yauzl from "yauzl";
import { APP_DIR, buildPackage, PACKAGE_DIR, type PackageResult } from "../../scripts/package.js";

const ROOT = new URL("../../", import.meta.url);
const readRoot = (path: string) => readFileSync(new URL(path, ROOT), "utf8");

/** The measured zip must stay well under this (the bound; Flex Consumption cold starts read the whole package). */
const MAX_ZIP_BYTES = 100 * 1024 * 1024;

interface LockEntry {
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
}

let work: string;
let built: PackageResult;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "uami-package-"));
  built = await buildPackage({ outDir: join(work, "out") });
  console.log(
    `package: ${(built.zipBytes / 1024 / 1024).toFixed(1)} MB zipped, ${(built.unpackedBytes / 1024 / 1024).toFixed(1)} MB unpacked, ${built.files.length} files`,
  );
}, 240_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function zipEntries(zipPath: string): Promise<string[]> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => yauzl.open(zipPath, { lazyEntries: true }, (e, z) => (e ? reject(e) : resolve(z))));
  const names: string[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on("entry", (entry: yauzl.Entry) => {
      names.push(entry.fileName);
      zip.readEntry();
    });
    zip.once("end", resolve);
    zip.once("error", reject);
    zip.readEntry();
  });
  return names;
}

/** Unzips with yauzl: entries are inflated one after another, written up to 64 at a time (12,000 files). */
async function unzip(zipPath: string, into: string): Promise<void> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => yauzl.open(zipPath, { lazyEntries: true }, (e, z) => (e ? reject(e) : resolve(z))));
  const folders = new Map<string, Promise<unknown>>();
  const folder = (path: string) => {
    let made = folders.get(path);
    if (!made) folders.set(path, (made = mkdir(path, { recursive: true })));
    return made;
  };
  const writing = new Set<Promise<void>>();
  await new Promise<void>((resolve, reject) => {
    zip.on("entry", (entry: yauzl.Entry) => {
      if (entry.fileName.endsWith("/")) return zip.readEntry();
      zip.openReadStream(entry, (error, stream) => {
        if (error) return reject(error);
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.once("error", reject);
        stream.once("end", () => {
          const target = join(into, entry.fileName);
          const write: Promise<void> = folder(dirname(target))
            .then(() => writeFile(target, Buffer.concat(chunks)))
            .finally(() => writing.delete(write));
          write.catch(reject);
          writing.add(write);
          if (writing.size < 64) zip.readEntry();
          else void Promise.race(writing).then(() => zip.readEntry(), reject);
        });
      });
    });
    zip.once("end", resolve);
    zip.once("error", reject);
    zip.readEntry();
  });
  await Promise.all(writing);
}

/** `node_modules/a/node_modules/@s/b/x.js` -> ["node_modules/a", "node_modules/a/node_modules/@s/b"]. */
function packageDirsOf(file: string): string[] {
  const parts = file.split("/");
  const dirs: string[] = [];
  for (let i = 0; i < parts.length - 1; i++) {
    if (parts[i] !== "node_modules") continue;
    const name = parts[i + 1]?.startsWith("@") ? 2 : 1;
    if (i + name >= parts.length - 1) continue;
    dirs.push(parts.slice(0, i + 1 + name).join("/"));
  }
  return dirs;
}

describe("the deployment package", () => {
  it("is well under 100 MB, and the zip holds exactly the files azd zips from the package folder", async () => {
    expect(built.zipBytes).toBeLessThan(MAX_ZIP_BYTES);
    const entries = await zipEntries(built.zipPath);
    expect(entries.filter((e) => !e.endsWith("/")).sort()).toEqual(built.files);
    // What azd's zip would leave out (its createDeployableZip: `.azure`, the ignore file, local.settings.json;
    // with remoteBuild false it keeps node_modules): none of it is in the folder, so its zip has the same files.
    for (const file of built.files) expect(file).not.toMatch(/(^|\/)(\.azure\/|\.funcignore$|local\.settings\.json$)/);
  });

  it("holds the compiled functions, host.json and a package.json the host reads, and no sources, tests, simulator or CLI", () => {
    const own = built.files.filter((f) => !f.startsWith("node_modules/"));
    expect(own).toContain("host.json");
    expect(own).toContain("package.json");
    const functions = readdirSync(new URL("src/functions/", ROOT)).filter((f) => f.endsWith(".ts")).map((f) => `dist/src/functions/${parse(f).name}.js`);
    for (const f of functions) expect(own).toContain(f);
    const stray = own.filter((f) => !/^(host\.json|package\.json|dist\/src\/.+\.js)$/.test(f));
    expect(stray).toEqual([]);
    expect(own.filter((f) => f.startsWith("dist/src/cli/"))).toEqual([]);

    const manifest = JSON.parse(readFileSync(join(built.appDir, "package.json"), "utf8")) as Record<string, unknown>;
    const root = JSON.parse(readRoot("package.json")) as Record<string, unknown>;
    expect(manifest).toMatchObject({ type: "module", main: root.main, dependencies: root.dependencies });
    expect(manifest).not.toHaveProperty("devDependencies");
    expect(manifest).not.toHaveProperty("scripts");
    expect(readFileSync(join(built.appDir, "host.json"), "utf8")).toBe(readRoot("host.json"));
  });

  it("holds no devDependency: every package in it is a production package of the lockfile", () => {
    const lock = JSON.parse(readRoot("package-lock.json")) as { packages: Record<string, LockEntry> };
    const root = JSON.parse(readRoot("package.json")) as { devDependencies: Record<string, string> };
    const shipped = new Set(built.files.flatMap(packageDirsOf));
    expect(shipped.size).toBeGreaterThan(20);
    const devOnly = Object.entries(lock.packages).filter(([path, entry]) => path !== "" && entry.dev === true).map(([path]) => path);
    expect(devOnly.length).toBeGreaterThan(100);
    expect(devOnly.filter((path) => shipped.has(path))).toEqual([]);
    for (const name of Object.keys(root.devDependencies)) expect(shipped.has(`node_modules/${name}`)).toBe(false);
    const notInLock = [...shipped].filter((dir) => !(dir in lock.packages));
    expect(notInLock).toEqual([]);
  });

  it("loads every function entry point from the unzipped package with plain Node and only its own node_modules", async () => {
    const unpacked = join(work, "unzipped", "wwwroot");
    await unzip(built.zipPath, unpacked);
    // No node_modules above the unzipped folder may lend a missing package (Node walks up the tree).
    for (let dir = dirname(unpacked); dir !== dirname(dir); dir = dirname(dir)) expect(existsSync(join(dir, "node_modules")), dir).toBe(false);

    const { main } = JSON.parse(readFileSync(join(unpacked, "package.json"), "utf8")) as { main: string };
    // The host loads `main` (a glob): every .js file of the functions folder.
    expect(main).toBe("dist/src/functions/*.js");
    const entries = readdirSync(join(unpacked, "dist/src/functions")).filter((f) => f.endsWith(".js"));
    expect(entries.length).toBeGreaterThanOrEqual(11);
    const script = [
      "const loaded = [];",
      `for (const f of ${JSON.stringify(entries)}) { await import("./dist/src/functions/" + f); loaded.push(f); }`,
      "console.log(JSON.stringify(loaded));",
    ].join("\n");
    // A bare environment: no NODE_PATH or NODE_OPTIONS (tsx, vitest), no npm variables.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "", HOME: unpacked };
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { cwd: unpacked, env, timeout: 60_000 });
    expect(stderr).not.toMatch(/Error|Cannot find|does not provide an export/);
    expect(JSON.parse(stdout.trim().split("\n").pop() ?? "[]")).toEqual(entries);
  }, 90_000);
});

describe("azd deploys that package", () => {
  it("azure.yaml builds locally with the packaging hook and uploads the package folder", () => {
    const yaml = readRoot("azure.yaml");
    expect(yaml).toMatch(/^\s+remoteBuild: false$/m);
    expect(yaml).toMatch(new RegExp(`^\\s+dist: ${PACKAGE_DIR.replace(".", "\\.")}/${APP_DIR}$`, "m"));
    expect(yaml).toMatch(/^\s+prepackage:$/m);
    expect(yaml.match(/^\s+run: npm run package$/gm)).toHaveLength(2);
    const scripts = (JSON.parse(readRoot("package.json")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.package).toBe("tsx scripts/package.ts");
    // azd refuses remoteBuild: false when the project's .funcignore excludes node_modules.
    if (existsSync(new URL(".funcignore", ROOT))) expect(readRoot(".funcignore")).not.toMatch(/^\/?node_modules\/?$/m);
    expect(readRoot(".gitignore")).toMatch(new RegExp(`^${PACKAGE_DIR.replace(".", "\\.")}/$`, "m"));
  });
});
