import { readdirSync } from "node:fs";
import { join } from "node:path";
import { HOOK_IDS, type HookId, isHookId } from "../core/hooks.js";
import { PACKAGE_ROOT, UsageError } from "./usage.js";

const EXAMPLES_DIR = join(PACKAGE_ROOT, "kratos", "examples");

/** The shipped example contexts for a hook: `kratos/examples/<hook>.<scenario>.json`. */
export function examplesOf(hook: string): string[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((f) => f.startsWith(`${hook}.`) && f.endsWith(".json"))
    .map((f) => f.slice(hook.length + 1, -5))
    .sort();
}

/** The file of a shipped example; a name the hook has no example of is a usage error naming those it has. */
export function exampleFile(hook: HookId, example: string): string {
  const examples = examplesOf(hook);
  if (!examples.includes(example)) {
    throw new UsageError(`no example "${example}" for ${hook}; the examples are: ${examples.join(", ")}`);
  }
  return join(EXAMPLES_DIR, `${hook}.${example}.json`);
}

/** `try <hook> --example` with no name: the argument parser needs a value, so give it "" (list them). */
export function withBareExample(args: string[]): string[] {
  const at = args.indexOf("--example");
  const next = args[at + 1];
  if (at < 0 || (next !== undefined && !next.startsWith("-"))) return args;
  return [...args.slice(0, at + 1), "", ...args.slice(at + 1)];
}

/** Prints the shipped examples of a hook (`try <hook> --example` without a name); exit code 0. */
export function listExamples(hook: string, out: (text: string) => void): 0 {
  if (!isHookId(hook)) throw new UsageError(`unknown hook "${hook}"; the hooks are: ${HOOK_IDS.join(", ")}`);
  const examples = examplesOf(hook);
  out(`examples for ${hook} (kratos-hooks try ${hook} --example <name>):\n${examples.map((e) => `  ${e}\n`).join("")}`);
  return 0;
}
