import { isJsonObject } from "../core/json.js";
import { finding, type YamlFinding } from "./doctor-finding.js";
import { type HookEntry, isParse } from "./kratos-config.js";

/** `session` not last in its list. */
function sessionNotLast(entry: HookEntry): YamlFinding | undefined {
  const index = entry.path.at(-1) as number;
  if (entry.name !== "session" || index === entry.list.length - 1) return undefined;
  // selfservice/hook/session_issuer.go: for API and SPA flows the session hook writes the
  // answer and aborts the list, so post-persist hooks after it never run for them. Parse
  // web_hooks run before persisting, wherever they are listed.
  const after = entry.list.slice(index + 1);
  const onlyParse = after.every((h) => isJsonObject(h) && h.hook === "web_hook" && isJsonObject(h.config) && isParse(h.config));
  return finding({
    code: "session-not-last",
    effect: onlyParse ? "warning" : "fails_at_runtime",
    at: entry.path,
    message: onlyParse
      ? "the session hook is not last; the parse web_hooks after it still run first (before the identity is saved), but the order misleads"
      : "the session hook is not last: Kratos answers API and SPA flows at the session hook, so the hooks after it never run for them (browser flows run them after the session cookie is issued)",
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
