import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { builtKratos } from "./kratos-build.js";
import { isExecutable, type KratosBinary, KratosToolchainError, KratosUnavailableError } from "./kratos-cache.js";
import { resolveProvidedV26 } from "./kratos-provided.js";

// Which Kratos binary runs: an override, else a tested release from the cache, a build
// (kratos-build.ts) or the provided archive (kratos-provided.ts); and the release a binary reports.
// Run as a script, it prints the path (`npm run kratos:build [-- v26.2.0]`).

export { KRATOS_VERSION, resolveGoJsonnet } from "./kratos-build.js";
export { type KratosBinary, KratosToolchainError, KratosUnavailableError } from "./kratos-cache.js";

/**
 * The Kratos releases the project is tested on: v1.3.1, built from its Go module, and v26.2.0,
 * which the Go module proxy does not serve (its tags sit on a module path without `/v26`): a
 * binary built from its public source, shipped beside the project in
 * `shared/kratos/v26.2.0/kratos-linux-amd64.gz` and pinned here by its sha256.
 */
export const TESTED_KRATOS_VERSIONS = ["v1.3.1", "v26.2.0"] as const;
export type TestedKratosVersion = (typeof TESTED_KRATOS_VERSIONS)[number];

/** The override that names the binary of one version, e.g. `KRATOS_BIN_V26_2_0`. */
export function kratosBinEnv(version: TestedKratosVersion): string {
  return `KRATOS_BIN_V${version.slice(1).replaceAll(".", "_")}`;
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
  return version === "v26.2.0" ? resolveProvidedV26(log, kratosBinEnv(version)) : builtKratos(log);
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
  return builtKratos(log);
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
