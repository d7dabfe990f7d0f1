import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cacheRoot, isExecutable, type KratosBinary, KratosToolchainError } from "./kratos-cache.js";
import { PACKAGE_ROOT } from "./usage.js";

// Kratos built from its Go module (kratos/build/) into the cache, and go-jsonnet at Kratos's
// version from the same module: a Go toolchain's job.

/** The Kratos release `dev` builds by default; the Go module in kratos/build/ pins the same. */
export const KRATOS_VERSION = "v1.3.1";

/** The Go module that builds Kratos (go.mod, go.sum, main.go), shipped with the package. */
const BUILD_DIR = join(PACKAGE_ROOT, "kratos", "build");

/** Said whenever Kratos cannot be built here: what is needed, and the way around it. */
const NEEDS = "building Kratos needs Go 1.23+ and gcc (cgo, for SQLite); install them, or set KRATOS_BIN to a Kratos binary";

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
    throw new KratosToolchainError(`go build of ${pkg} failed (exit ${result.status ?? result.signal}); see the go output above`);
  }
  renameSync(partial, join(dir, name));
  return Math.round((Date.now() - started) / 1000);
}

/** Kratos v1.3.1 (`KRATOS_VERSION`) from the cache, else built from its Go module into the cache. */
export function builtKratos(log: (line: string) => void): KratosBinary {
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
