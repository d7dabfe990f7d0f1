import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** A mistake in how the CLI was called: exit code 2 and a message that says what to change. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The package's own folder (kratos/, kratos/examples/, schemas/), from src/cli or dist/src/cli alike. */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "kratos-hooks") return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("kratos-hooks: cannot find the package folder (package.json named kratos-hooks)");
    dir = parent;
  }
}

export const PACKAGE_ROOT = findPackageRoot();

/** A path as a person typed it: relative to the working directory when inside it, else absolute. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel === "" || rel.startsWith("..") ? resolve(file) : rel;
}

/**
 * The exit codes of every command, in one place: each command returns one of these, prints
 * `EXIT_CODES_HELP` in its --help, and docs/cli.md shows the same table.
 */
export const EXIT = {
  /** Kratos continues or saves; nothing wrong found; the work is done. */
  ok: 0,
  /** The command ran and found a problem: Kratos stops or fails the flow, errors found, a config invalid. */
  problems: 1,
  /** The command could not run as asked: a bad option or argument, a missing file, an unknown hook. */
  usage: 2,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit-code table, as every command's --help prints it. */
export const EXIT_CODES_HELP = `Exit codes: (the same for every command)
  0  success: Kratos continues or saves (try), no errors (doctor, warnings alone pass), valid
     (config check), every identity updated or unchanged (backfill), the status read or the
     identifier unlocked (shield)
  1  a problem found: Kratos stops or fails the flow (try), errors found (doctor), invalid
     (config check), any other status or an interrupted run (backfill), the service or its
     store failing the request (shield)
  2  usage error: a bad option or argument, a file that cannot be read, an unknown hook or
     example, our config unusable for try or doctor, the admin API unreachable or refusing
     the token at the first request (backfill), no Kratos release to be read from
     --kratos-version, --admin-url or the binary dev runs (doctor, try, dev), the service or
     Redis unreachable, the key refused or no shield there (shield)
`;
