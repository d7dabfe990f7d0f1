import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { cacheRoot, isExecutable, type KratosBinary, KratosUnavailableError } from "./kratos-cache.js";
import { PACKAGE_ROOT } from "./usage.js";

// Kratos v26.2.0 as provided beside the project (the Go module proxy does not serve it): a gzip
// pinned by sha256, unpacked into the cache.

/** The v26.2.0 binary as provided: the gzip and the binary inside it, by sha256. */
const PROVIDED_V26 = {
  archive: join("shared", "kratos", "v26.2.0", "kratos-linux-amd64.gz"),
  archiveSha256: "b7a6481bdf4df4352a32de7a5f7b715c0475f2f0cef30e1f29ffece343378cd6",
  binarySha256: "e77cafd9c47e047fcd49c8bfd24b7d1745de831a65aadcb82919b7bd0df4c9fd",
} as const;

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
 * Kratos v26.2.0: the cached binary (its sha256 checked on every run), else the provided gzip
 * unpacked into the cache (both sha256 checked first). `override` names the variable that points
 * at another binary (`KRATOS_BIN_V26_2_0`, the caller's to read), for the messages.
 */
export function resolveProvidedV26(log: (line: string) => void, override: string): KratosBinary {
  const dir = join(cacheRoot(), "kratos-v26.2.0");
  const path = join(dir, "kratos");
  if (isExecutable(path)) {
    if (sha256(readFileSync(path)) === PROVIDED_V26.binarySha256) return { path, source: "cache" };
    // Replaced below by a rename, atomically: a run that is using the file keeps its copy.
    log(`${path} is not the v26.2.0 binary (sha256 differs); unpacking it again`);
  }
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new KratosUnavailableError(
      `the provided Kratos v26.2.0 is a linux/amd64 binary, and this is ${process.platform}/${process.arch}: set ${override}=/path/to/kratos (v26.2.0 built for this machine)`,
    );
  }
  const archive = findProvidedArchive();
  if (archive === undefined) {
    throw new KratosUnavailableError(
      `no Kratos v26.2.0 binary here: not in ${dir}, and no ${PROVIDED_V26.archive} beside the project or its ancestors. Set ${override}=/path/to/kratos (v26.2.0, linux/amd64 with SQLite), or run one version only: npm run test:e2e -- --kratos=v1.3.1`,
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

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
