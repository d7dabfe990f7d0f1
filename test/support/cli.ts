import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { main } from "../../src/cli/main.js";
import { spawnNode } from "./spawn.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "dist/src/cli/bin.js");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI in this process (fast; for the many verdict and finding cases). */
export async function cli(...argv: string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}

/** The built `kratos-hooks` command as a real process: exit codes, stdout and stderr as a shell sees them. */
export async function cliProcess(argv: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  const proc = spawnNode([BIN, ...argv], { cwd: options.cwd ?? ROOT, env: options.env });
  const code = await proc.exit;
  return { code: code as number, stdout: proc.stdout(), stderr: proc.stderr() };
}

/** The shipped kratos.yml with `edit` applied, written to a fresh folder; returns its path. */
export function editedKratosYml(edit: (config: Record<string, unknown>) => void): string {
  const config = parse(readFileSync(join(ROOT, "kratos/kratos.yml"), "utf8"), { merge: true }) as Record<string, unknown>;
  edit(config);
  const dir = mkdtempSync(join(tmpdir(), "kratos-hooks-cli-"));
  const file = join(dir, "kratos.yml");
  writeFileSync(file, stringify(config, { aliasDuplicateObjects: false }));
  return file;
}

export const DOCTOR_CASES = join(ROOT, "test/fixtures/doctor");

/** The Kratos config file of a case of test/fixtures/doctor/: kratos.yml, or kratos.json for a JSON case. */
export function doctorCaseConfigFile(name: string): string {
  return existsSync(join(DOCTOR_CASES, name, "kratos.json")) ? "kratos.json" : "kratos.yml";
}

/**
 * The doctor's arguments for a case of test/fixtures/doctor/: its kratos.yml (or kratos.json), our
 * config when the case has one, and the options in its doctor-args.json when it has one.
 */
export function doctorCaseArgs(name: string): string[] {
  const dir = join(DOCTOR_CASES, name);
  const config = join(dir, "hooks-config.json");
  const args = join(dir, "doctor-args.json");
  return [
    join(dir, doctorCaseConfigFile(name)),
    ...(existsSync(config) ? ["--config", config] : []),
    ...(existsSync(args) ? (JSON.parse(readFileSync(args, "utf8")) as string[]) : []),
  ];
}

/** `base64://` of a Jsonnet template, as kratos.yml accepts it. */
export function base64Template(source: string): string {
  return `base64://${Buffer.from(source).toString("base64")}`;
}

/**
 * The keys the doctor fixtures' web_hooks send (test-key-…) and the shipped kratos.yml's
 * (the development key): the doctor compares them with HOOKS_API_KEYS, so suites that run it
 * on the fixtures serve both.
 */
export const DOCTOR_FIXTURE_KEYS = "test-key-0123456789abcdef,dev-only-insecure-key";
