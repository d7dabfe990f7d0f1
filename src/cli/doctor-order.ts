import { finding, type YamlFinding } from "./doctor-finding.js";
import type { HookEntry } from "./kratos-config.js";

/**
 * `session` not last in its list. Kratos runs it last wherever it is listed (getHooks appends the
 * session issuer after the other hooks), so nothing is skipped: measured on v1.3.1 and v26.2.0 by
 * test/e2e/hook-table-agreement.e2e.test.ts (fixture session-not-last, a web_hook listed after
 * `session` is called). The order only misleads whoever reads the list: a warning.
 */
function sessionNotLast(entry: HookEntry): YamlFinding | undefined {
  const index = entry.path.at(-1) as number;
  if (entry.name !== "session" || index === entry.list.length - 1) return undefined;
  return finding({
    code: "session-not-last",
    effect: "warning",
    at: entry.path,
    message:
      "the session hook is not last; Kratos runs it last anyway, after every other hook of this list, so the order written here misleads",
    fix: "move - hook: session to the end of this list",
  });
}

/**
 * The order of the hook lists: `session` last. (Which methods run our hooks is read from the
 * effective hook table: src/cli/doctor-hook-table.ts.)
 */
export function orderFindings(entries: HookEntry[]): YamlFinding[] {
  return entries.map(sessionNotLast).filter((f) => f !== undefined);
}
