import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { PACKAGE_ROOT } from "./usage.js";

/** The Kratos release `dev` builds by default; the Go module in kratos/build/ pins the same. */
export const KRATOS_VERSION = "v1.3.1";

/**
 * The Kratos releases the project is tested on: v1.3.1, built from its Go module, and v26.2.0,
 * which the Go module proxy does not serve (its tags sit on a module path without `/v26`): a
 * binary built from its public source, shipped beside the project in
 * `shared/kratos/v26.2.0/kratos-linux-amd64.gz` and pinned here by its sha256.
 */
export const TESTED_KRATOS_VERSIONS = ["v1.3.1", "v26.2.0"] as const;
export type TestedKratosVersion = (typeof TESTED_KRATOS_VERSIONS)[number];

/** The v26.2.0 binary as provided: the gzip and the binary inside it, by sha256. */
const PROVIDED_V26 = {
  archive: join("shared", "kratos", "v26.2.0", "kratos-linux-amd64.gz"),
  archiveSha256: "b7a6481bdf4df4352a32de7a5f7b715c0475f2f0cef30e1f29ffece343378cd6",
  binarySha256: "e77cafd9c47e047fcd49c8bfd24b7d1745de831a65aadcb82919b7bd0df4c9fd",
} as const;

/** The override that names the binary of one version, e.g. `KRATOS_BIN_V26_2_0`. */
export function kratosBinEnv(version: TestedKratosVersion): string {
  return `KRATOS_BIN_V${version.slice(1).replaceAll(".", "_")}`;
}

/** The Go module that builds Kratos (go.mod, go.sum, main.go), shipped with the package. */
const BUILD_DIR = join(PACKAGE_ROOT, "kratos", "build");

/** Said whenever Kratos cannot be built here: what is needed, and the way around it. */
const NEEDS = "building Kratos needs Go 1.23+ and gcc (cgo, for SQLite); install them, or set KRATOS_BIN to a Kratos binary";

export interface KratosBinary {
  path: string;
  /** Where it came from: the user's KRATOS_BIN (or KRATOS_BIN_V…), the cache, a build or an unpacking just now. */
  source: "KRATOS_BIN" | "cache" | "built" | "unpacked";
  buildSeconds?: number;
}

/** No binary of a version can be found or made here; the message says where it looked and names the override. */
export class KratosUnavailableError extends Error {
  override name = "KratosUnavailableError";
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Go or gcc is missing or too old; the message names both and KRATOS_BIN. */
export class KratosToolchainError extends Error {
  override name = "KratosToolchainError";
}

function noGo(why: string): Error {
  return new KratosToolchainError(`cannot run go (${why}): ${NEEDS}`);
}

/** Go 1.23 or newer and a C compiler (CC, else gcc) for cgo, checked before a build starts. */
function checkToolchain(): void {
  const version = goEnv("GOVERSION");
  const match = /^go(\d+)\.(\d+)/.exec(version);
  if (match === null || Number(match[1]) < 1 || (Number(match[1]) === 1 && Number(match[2]) < 23)) {
    throw new KratosToolchainError(`found ${version || "an unknown Go version"}: ${NEEDS}`);
  }
  const cc = process.env.CC || "gcc";
  const probe = spawnSync(cc, ["--version"], { stdio: "ignore" });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new KratosToolchainError(`cannot run the C compiler ${cc}: ${NEEDS}`);
  }
}

function goEnv(name: string): string {
  try {
    return execFileSync("go", ["env", name], { encoding: "utf8" }).trim();
  } catch (error) {
    throw noGo((error as Error).message);
  }
}

/**
 * The cache key covers everything that changes the binary: the pinned module graph (go.mod,
 * go.sum), our main.go, and the Go toolchain and platform. A new Go release rebuilds once.
 */
function cacheDir(): string {
  const hash = createHash("sha256");
  for (const file of ["go.mod", "go.sum", "main.go"]) hash.update(readFileSync(join(BUILD_DIR, file)));
  hash.update(`${goEnv("GOVERSION")} ${goEnv("GOOS")}/${goEnv("GOARCH")}`);
  return join(cacheRoot(), `kratos-${KRATOS_VERSION}-${hash.digest("hex").slice(0, 12)}`);
}

function cacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "kratos-hooks");
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * `shared/kratos/v26.2.0/kratos-linux-amd64.gz` beside the project or one of its ancestors; for
 * a clone of a local checkout (a CI run's `git clone . /tmp/…`), beside that checkout too.
 */
function findProvidedArchive(): string | undefined {
  for (const start of [PACKAGE_ROOT, localOrigin()]) {
    if (start === undefined) continue;
    for (let dir = dirname(start); ; dir = dirname(dir)) {
      const candidate = join(dir, PROVIDED_V26.archive);
      if (existsSync(candidate)) return candidate;
      if (dirname(dir) === dir) break;
    }
  }
  return undefined;
}

/** The folder this checkout was cloned from, when its `origin` is a path on this machine. */
function localOrigin(): string | undefined {
  const result = spawnSync("git", ["config", "--get", "remote.origin.url"], { cwd: PACKAGE_ROOT, encoding: "utf8" });
  const url = result.status === 0 ? result.stdout.trim() : "";
  const path = url.startsWith("file://") ? fileURLToPath(url) : url;
  return path.startsWith("/") && existsSync(path) ? resolve(path) : undefined;
}

/**
 * Kratos v26.2.0: `KRATOS_BIN_V26_2_0` if set, else the cached binary (its sha256 checked on
 * every run), else the provided gzip unpacked into the cache (both sha256 checked first).
 */
function resolveProvidedV26(log: (line: string) => void): KratosBinary {
  const dir = join(cacheRoot(), "kratos-v26.2.0");
  const path = join(dir, "kratos");
  if (isExecutable(path)) {
    if (sha256(readFileSync(path)) === PROVIDED_V26.binarySha256) return { path, source: "cache" };
    // Replaced below by a rename, atomically: a run that is using the file keeps its copy.
    log(`${path} is not the v26.2.0 binary (sha256 differs); unpacking it again`);
  }
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new KratosUnavailableError(
      `the provided Kratos v26.2.0 is a linux/amd64 binary, and this is ${process.platform}/${process.arch}: set ${kratosBinEnv("v26.2.0")}=/path/to/kratos (v26.2.0 built for this machine)`,
    );
  }
  const archive = findProvidedArchive();
  if (archive === undefined) {
    throw new KratosUnavailableError(
      `no Kratos v26.2.0 binary here: not in ${dir}, and no ${PROVIDED_V26.archive} beside the project or its ancestors. Set ${kratosBinEnv("v26.2.0")}=/path/to/kratos (v26.2.0, linux/amd64 with SQLite), or run one version only: npm run test:e2e -- --kratos=v1.3.1`,
    );
  }
  const gz = readFileSync(archive);
  if (sha256(gz) !== PROVIDED_V26.archiveSha256) {
    throw new KratosUnavailableError(
      `${archive}: sha256 ${sha256(gz)} is not the pinned ${PROVIDED_V26.archiveSha256}; refusing to run it`,
    );
  }
  const binary = gunzipSync(gz);
  if (sha256(binary) !== PROVIDED_V26.binarySha256) {
    throw new KratosUnavailableError(
      `${archive} unpacks to a binary whose sha256 is not the pinned ${PROVIDED_V26.binarySha256}; refusing to run it`,
    );
  }
  mkdirSync(dir, { recursive: true });
  const partial = join(dir, `kratos.partial-${process.pid}`);
  try {
    writeFileSync(partial, binary);
    chmodSync(partial, 0o755);
    renameSync(partial, path);
  } finally {
    rmSync(partial, { force: true });
  }
  log(`Unpacked Kratos v26.2.0 (sha256 checked) from ${archive} into ${path}`);
  return { path, source: "unpacked" };
}

/**
 * The release a Kratos binary reports (`kratos version`: `Version: v26.2.0`), or undefined when
 * it names none. A binary built without the ldflags that set it reports `master`.
 */
export function kratosBinaryVersion(path: string): string | undefined {
  const result = spawnSync(path, ["version"], { encoding: "utf8", timeout: 30_000 });
  const match = /^Version:\s*(\S+)/m.exec(`${result.stdout ?? ""}`);
  return match?.[1];
}

/**
 * A Kratos binary of one tested version, for the end-to-end suites and the benchmark:
 * `KRATOS_BIN_V1_3_1` / `KRATOS_BIN_V26_2_0` if set, else v1.3.1 as `resolveKratos` finds it
 * (the cache or a build) and v26.2.0 from the cache or the provided gzip.
 */
export function resolveKratosVersion(
  version: TestedKratosVersion,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): KratosBinary {
  const override = process.env[kratosBinEnv(version)];
  if (override) {
    if (!isExecutable(override)) throw new KratosUnavailableError(`${kratosBinEnv(version)}=${override} is not an executable file`);
    return { path: resolve(override), source: "KRATOS_BIN" };
  }
  return version === "v26.2.0" ? resolveProvidedV26(log) : cachedOrBuilt(log);
}

/**
 * `resolveKratosVersion`, for what labels its results by release (the e2e runner, the
 * benchmark): the binary must also say it is that release (`kratos version`), or none is found.
 */
export function resolveReportingKratos(
  version: TestedKratosVersion,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): KratosBinary {
  const binary = resolveKratosVersion(version, log);
  const reported = kratosBinaryVersion(binary.path);
  if (reported !== version) {
    throw new KratosUnavailableError(
      `${binary.path} says it is Kratos ${reported ?? "of no release"}; set ${kratosBinEnv(version)} to a ${version} binary`,
    );
  }
  return binary;
}

/**
 * Builds `pkg` of the kratos-build module into `dir/name`. The build goes to a temporary name
 * and is renamed when complete, so an interrupted build never leaves a broken binary behind.
 */
function goBuild(dir: string, name: string, pkg: string, flags: string[]): number {
  mkdirSync(dir, { recursive: true });
  const partial = join(dir, `${name}.partial-${process.pid}`);
  const started = Date.now();
  const result = spawnSync("go", ["build", ...flags, "-trimpath", "-o", partial, pkg], {
    cwd: BUILD_DIR,
    // CGO for go-sqlite3; never switch toolchains behind the user's back.
    env: { ...process.env, CGO_ENABLED: "1", GOTOOLCHAIN: "local", GOFLAGS: "-mod=readonly" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (result.status !== 0) {
    rmSync(partial, { force: true });
    if (result.error) throw noGo(result.error.message);
    throw new Error(`go build of ${pkg} failed (exit ${result.status ?? result.signal}); see the go output above`);
  }
  renameSync(partial, join(dir, name));
  return Math.round((Date.now() - started) / 1000);
}

/**
 * Finds a Kratos binary for `kratos-hooks dev` and the end-to-end suite: `KRATOS_BIN` if set, else the cached build,
 * else builds Kratos from its Go module (`github.com/ory/kratos`, with the sqlite tag) into the
 * cache.
 */
export function resolveKratos(log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): KratosBinary {
  const fromEnv = process.env.KRATOS_BIN;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new KratosUnavailableError(`KRATOS_BIN=${fromEnv} is not an executable file`);
    return { path: fromEnv, source: "KRATOS_BIN" };
  }
  return cachedOrBuilt(log);
}

/** Kratos v1.3.1 from the cache, else built from its Go module into the cache. */
function cachedOrBuilt(log: (line: string) => void): KratosBinary {
  const dir = cacheDir();
  const path = join(dir, "kratos");
  if (isExecutable(path)) return { path, source: "cache" };
  checkToolchain();
  log(`Building Ory Kratos ${KRATOS_VERSION} from its Go module into ${dir} (first run only; a few minutes)…`);
  const buildSeconds = goBuild(dir, "kratos", ".", [
    "-tags",
    "sqlite",
    "-ldflags",
    `-s -w -X github.com/ory/kratos/driver/config.Version=${KRATOS_VERSION}`,
  ]);
  writeFileSync(
    join(dir, "build.json"),
    `${JSON.stringify({ version: KRATOS_VERSION, buildSeconds, builtAt: new Date().toISOString() })}\n`,
  );
  log(`Built Kratos ${KRATOS_VERSION} in ${buildSeconds} s: ${path}`);
  return { path, source: "built", buildSeconds };
}

/**
 * The go-jsonnet command line at the version Kratos's module graph pins (v0.20.0 for v1.3.1),
 * built from the same module into the same cache: the reference our CLI's Jsonnet engine is
 * compared with. `GO_JSONNET_BIN` overrides it.
 */
export function resolveGoJsonnet(log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): string {
  const fromEnv = process.env.GO_JSONNET_BIN;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`GO_JSONNET_BIN=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const dir = cacheDir();
  const path = join(dir, "jsonnet");
  if (isExecutable(path)) return path;
  const seconds = goBuild(dir, "jsonnet", "github.com/google/go-jsonnet/cmd/jsonnet", ["-ldflags", "-s -w"]);
  log(`Built go-jsonnet (Kratos's version) in ${seconds} s: ${path}`);
  return path;
}

// `npm run kratos:build [-- v26.2.0]` (or `tsx src/cli/kratos-binary.ts`): find, build or unpack it, print the path.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const version = process.argv[2];
  try {
    if (version !== undefined && !(TESTED_KRATOS_VERSIONS as readonly string[]).includes(version)) {
      throw new KratosUnavailableError(`unknown version ${version}: expected one of ${TESTED_KRATOS_VERSIONS.join(", ")}`);
    }
    const binary = version === undefined ? resolveKratos() : resolveKratosVersion(version as TestedKratosVersion);
    process.stdout.write(`${binary.path}\n`);
    if (binary.source === "cache") process.stderr.write(`(cached in ${dirname(binary.path)})\n`);
  } catch (error) {
    if (!(error instanceof KratosToolchainError || error instanceof KratosUnavailableError)) throw error;
    process.stderr.write(`kratos-hooks: ${error.message}\n`);
    process.exitCode = 1;
  }
}
