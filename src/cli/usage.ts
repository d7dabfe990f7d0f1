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
