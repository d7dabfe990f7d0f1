import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { type DevKratosConfig, toDevKratosConfig } from "./dev-entry.js";
import { type Child, startChild } from "./dev-processes.js";
import { type DevStack, type DevUrls, kratosEnv } from "./dev-stack.js";
import {
  type KratosBinary,
  kratosBinaryVersion,
  resolveKratos,
  resolveKratosVersion,
  TESTED_KRATOS_VERSIONS,
  type TestedKratosVersion,
} from "./kratos-binary.js";
import { type JudgedKratos, toJudgedKratos, VERSION_FLAG } from "./kratos-version.js";
import { displayPath, UsageError } from "./usage.js";

// Kratos as `kratos-hooks dev` runs it: which binary and release, the kratos.yml it reads, its process.

/**
 * The Kratos `dev` runs: KRATOS_BIN if set, else the tested release `--kratos-version` names,
 * else v1.3.1 from the cache or a build. Its release is what `kratos version` reports; with
 * `--kratos-version`, the binary must report that release (or none, for a build without one).
 */
export function resolveDevKratos(
  flag: string | undefined,
  log: (line: string) => void,
  report: (path: string) => string | undefined = kratosBinaryVersion,
): { binary: KratosBinary; judged: JudgedKratos } {
  const wanted = flag === undefined ? undefined : toJudgedKratos(flag, "flag", VERSION_FLAG);
  let binary: KratosBinary;
  // resolveKratos reads KRATOS_BIN from the process's environment, as here.
  if (process.env.KRATOS_BIN || wanted === undefined) binary = resolveKratos(log);
  else if ((TESTED_KRATOS_VERSIONS as readonly string[]).includes(wanted.version)) {
    binary = resolveKratosVersion(wanted.version as TestedKratosVersion, log);
  } else {
    throw new UsageError(
      `${VERSION_FLAG} ${wanted.version}: dev runs the tested releases (${TESTED_KRATOS_VERSIONS.join(", ")}); for another, set KRATOS_BIN to its binary`,
    );
  }
  const from = `\`kratos version\` of ${binary.path}`;
  const reported = report(binary.path);
  if (wanted === undefined) {
    if (reported === undefined) {
      throw new UsageError(`${binary.path} does not say which Kratos release it is (\`kratos version\`): pass ${VERSION_FLAG} <release>`);
    }
    return { binary, judged: toJudgedKratos(reported, "binary", from) };
  }
  const judged = reported === undefined ? undefined : releaseOrNone(reported, from);
  if (judged === undefined) {
    const note = `${binary.path} reports ${reported === undefined ? "no release" : `"${reported}"`}`;
    return { binary, judged: { ...wanted, note: wanted.note === undefined ? note : `${wanted.note}; ${note}` } };
  }
  if (judged.version !== wanted.version) {
    throw new UsageError(`${VERSION_FLAG} ${wanted.version}, but ${binary.path} reports ${judged.version} (\`kratos version\`)`);
  }
  return { binary, judged };
}

/** The release a binary reports, or undefined for a build without one (`master`): the flag then says which it is. */
function releaseOrNone(reported: string, from: string): JudgedKratos | undefined {
  try {
    return toJudgedKratos(reported, "binary", from);
  } catch (error) {
    // toJudgedKratos refuses a text that names no release with a UsageError; anything else is a bug.
    if (error instanceof UsageError) return undefined;
    throw error;
  }
}

/** resolveDevKratos, saying on stderr which binary runs, where it came from, and any note on its release. */
export function findDevKratos(flag: string | undefined, err: (text: string) => void): { path: string; judged: JudgedKratos } {
  const found = resolveDevKratos(flag, (line) => err(`${line}\n`));
  const { judged } = found;
  const note = judged.note === undefined ? "" : `; ${judged.note}`;
  err(`Kratos ${judged.version}: ${found.binary.path}${found.binary.source === "KRATOS_BIN" ? " (KRATOS_BIN)" : ""}${note}\n`);
  return { path: found.binary.path, judged };
}

/** The kratos.yml Kratos runs: the chosen one, or a copy with the shipped addresses moved; what changed. */
export interface RunKratosConfig {
  /** The file Kratos reads. */
  runs: string;
  changes: readonly string[];
  /** The config sends its SMS and email somewhere other than dev's sink. */
  courierElsewhere: boolean;
}

/**
 * The kratos.yml chosen, with only the hooks' and the sink's shipped addresses moved (in a copy
 * in `dir`, when a port flag moves them); warns when it calls neither where dev runs them.
 * serve.* and the DSN go through Kratos's environment.
 */
export function kratosConfigToRun(chosen: DevKratosConfig, urls: DevUrls, dir: string, err: (text: string) => void): RunKratosConfig {
  const moved = toDevKratosConfig(chosen.text, urls);
  let runs = chosen.file;
  if (moved.changes.length > 0) {
    runs = join(dir, "kratos.yml");
    writeFileSync(runs, moved.text);
  }
  const courierElsewhere = !moved.text.includes(urls.sink);
  if (courierElsewhere) {
    err(
      `kratos-hooks dev: warning: ${displayPath(chosen.file)} sends no SMS or email to ${urls.sink}, where dev prints them; its own courier sends them, for real\n`,
    );
  }
  if (!moved.text.includes(urls.hooks)) {
    err(
      `kratos-hooks dev: warning: ${displayPath(chosen.file)} has no web_hook calling ${urls.hooks}, where dev runs the hooks; Kratos will not ask them\n`,
    );
  }
  return { runs, changes: moved.changes, courierElsewhere };
}

/**
 * Kratos on the stack's ports with `config.runs`, its log in `dir`; a DSN other than memory is
 * migrated first. Relative file:// URLs in kratos.yml resolve from Kratos's working directory: the
 * folder of the kratos.yml chosen (kratos/ for the shipped one and for `init`'s), wherever its copy is.
 */
export function startKratos(
  binary: string,
  run: { stack: DevStack; dsn: string; chosen: DevKratosConfig; config: RunKratosConfig; dir: string },
  env: NodeJS.ProcessEnv,
): Child {
  const { dsn } = run;
  const options = { cwd: dirname(run.chosen.file), env: kratosEnv(run.stack, dsn, env) };
  if (dsn !== "memory") {
    const migrate = spawnSync(binary, ["migrate", "sql", "-e", "--yes", "--config", run.config.runs], { ...options, encoding: "utf8" });
    if (migrate.status !== 0) {
      // Not started at all (migrate.error), or failed with its own output.
      throw new Error(`kratos migrate sql failed for ${dsn}:\n${migrate.error?.message ?? (migrate.stderr || migrate.stdout)}`);
    }
  }
  return startChild("Kratos", binary, ["serve", "--dev", "--watch-courier", "--config", run.config.runs], {
    ...options,
    log: join(run.dir, "kratos.log"),
  });
}
