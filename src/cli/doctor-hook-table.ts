import type { HookId } from "../core/hooks.js";
import { METHOD_FLOWS, type MethodFlow } from "../kratos/self-service.js";
import { finding, type YamlFinding } from "./doctor-finding.js";
import { flowAfterList, type HookRow, type ModelRelease } from "./hook-table.js";
import { pathText } from "./kratos-config.js";

// Findings drawn from the effective hook table (src/cli/hook-table.ts): one of our hooks that a
// method's own list hides, and a method that runs none of our hooks where the flow's others do.

/** What a flow's submissions are called in a sentence. */
const DONE_BY: Record<MethodFlow, string> = { registration: "sign-ups", login: "logins", settings: "settings changes" };

/** What is lost when our hook does not run, by route. */
const LOST: Record<HookId, string> = {
  "registration-before": "the request checks before sign-up",
  "registration-after": "phone normalization, schema routing and the deny rules",
  "login-before": "the request checks before login",
  "login-after": "the deny rules at login",
  "settings-after": "phone normalization and the deny rules on settings",
};

const isMethodFlow = (flow: string): flow is MethodFlow => (METHOD_FLOWS as readonly string[]).includes(flow);

/**
 * The methods whose submissions our hooks judge: every way to sign up or log in, but in settings
 * only `profile`, the one that changes traits (a new password or second factor gives
 * /hooks/settings-after nothing to normalize or refuse).
 */
const judged = (row: HookRow) => row.flow !== "settings" || row.method === "profile";

/** The routes of ours a row runs. */
function ours(row: HookRow): Set<HookId> {
  return new Set(row.hooks.flatMap((h) => (h.runs && h.route !== null && h.route !== undefined ? [h.route] : [])));
}

/** Our hooks in the flow's own after list that a method's list keeps from running. */
function hidden(
  data: Record<string, unknown>,
  row: HookRow & { flow: MethodFlow; method: string },
  release: ModelRelease,
): { route: HookId; finding: YamlFinding }[] {
  const list = ["selfservice", "flows", row.flow, "after", row.method, "hooks"];
  return flowAfterList(data, row.flow, release)
    .filter(
      (h): h is typeof h & { route: HookId } =>
        h.runs && h.route !== null && h.route !== undefined && !row.hooks.some((r) => r.from === h.from),
    )
    .map((h) => ({
      route: h.route,
      finding: finding({
        code: "hook-hidden",
        effect: "fails_at_runtime",
        at: list,
        message: `/hooks/${h.route} (${h.from}) does not run for ${DONE_BY[row.flow]} by ${row.method}: ${pathText(list)} replaces the flow's list instead of adding to it, so ${DONE_BY[row.flow]} by ${row.method} skip ${LOST[h.route]}`,
        fix: `add the same web_hook to ${pathText(list)}${row.flow === "login" ? " (before any require_verified_address)" : ""}, or remove that list`,
      }),
    }));
}

/** A method that runs none of a route the flow's other methods run (unless `hidden` said why). */
function notWired(rows: readonly (HookRow & { flow: MethodFlow; method: string })[], already: ReadonlySet<string>): YamlFinding[] {
  const out: YamlFinding[] = [];
  for (const row of rows) {
    const siblings = rows.filter((r) => r.flow === row.flow && r !== row);
    const routes = new Set(siblings.flatMap((r) => [...ours(r)]));
    const have = ours(row);
    for (const route of routes) {
      if (have.has(route) || already.has(`${row.flow} ${row.method} ${route}`)) continue;
      const wired = siblings.filter((r) => ours(r).has(route)).map((r) => r.method);
      const list = ["selfservice", "flows", row.flow, "after", row.method, "hooks"];
      out.push(
        finding({
          code: "method-not-wired",
          effect: "fails_at_runtime",
          at: ["selfservice", "flows", row.flow, "after"],
          path: pathText(list),
          message: `/hooks/${route} runs for ${DONE_BY[row.flow]} by ${wired.join(", ")} but not by ${row.method}, which is enabled: ${DONE_BY[row.flow]} by ${row.method} skip ${LOST[route]}`,
          fix: `add the same web_hook${row.flow === "registration" ? " (and then - hook: session)" : ""} to ${pathText(list)}`,
        }),
      );
    }
  }
  return out;
}

/** Hidden hooks and unwired methods, from the table. */
export function hookTableFindings(data: Record<string, unknown>, table: readonly HookRow[], release: ModelRelease): YamlFinding[] {
  const rows = table.filter(
    (r): r is HookRow & { flow: MethodFlow; method: string } =>
      r.phase === "after" && r.method !== null && isMethodFlow(r.flow) && judged(r),
  );
  const hiddenFindings = rows.flatMap((row) =>
    hidden(data, row, release).map((h) => ({ ...h, key: `${row.flow} ${row.method} ${h.route}` })),
  );
  const already = new Set(hiddenFindings.map((h) => h.key));
  return [...hiddenFindings.map((h) => h.finding), ...notWired(rows, already)];
}
