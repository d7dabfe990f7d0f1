import { accessSync, constants, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

// What finding a Kratos binary gives, how it fails, and the cache the builds and unpackings go to
// (kratos-build.ts, kratos-provided.ts; kratos-binary.ts chooses between them).

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

/** Go or gcc is missing or too old; the message names both and KRATOS_BIN. */
export class KratosToolchainError extends Error {
  override name = "KratosToolchainError";
}

/** An executable file; a path that is missing, unreadable or not executable is simply not one. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    // accessSync and statSync fail for exactly the paths that are not an executable file.
    return false;
  }
}

/** `$XDG_CACHE_HOME/kratos-hooks`, else `~/.cache/kratos-hooks`. */
export function cacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "kratos-hooks");
}
