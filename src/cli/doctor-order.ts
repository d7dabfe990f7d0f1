import { factsOf, HOOK_IDS, type HookId } from "../core/hooks.js";
import { isJsonObject } from "../core/json.js";
import { finding, type YamlFinding } from "./doctor-finding.js";
import { type HookEntry, isParse, pathText, routeOf } from "./kratos-config.js";

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

/** The methods that create identities in a flow, as kratos.yml enables them. */
function identityMethods(data: Record<string, unknown>): string[] {
  const methods = isJsonObject(data.selfservice) && isJsonObject(data.selfservice.methods) ? data.selfservice.methods : {};
  const on = (name: string) => {
    const m = methods[name];
    return isJsonObject(m) && m.enabled === true;
  };
  const code = methods.code;
  const enabled: string[] = [];
  // password is enabled unless turned off; code registers only with passwordless_enabled.
  if (!(isJsonObject(methods.password) && methods.password.enabled === false)) enabled.push("password");
  if (on("code") && isJsonObject(code) && code.passwordless_enabled === true) enabled.push("code");
  for (const name of ["oidc", "webauthn", "passkey"]) if (on(name)) enabled.push(name);
  return enabled;
}

/**
 * A hook that creates identities from per-method lists, wired for some enabled methods and not
 * others: sign-ups by the others skip it.
 */
function methodsNotWired(data: Record<string, unknown>, entries: HookEntry[], hook: HookId): YamlFinding[] {
  const { flow, when } = factsOf(hook);
  const wired = new Set(
    entries
      .filter((e) => {
        const route = e.flow === flow && e.when === when && e.name === "web_hook" ? routeOf(e.config?.url) : null;
        return e.method !== null && route !== null && "id" in route && route.id === hook;
      })
      .map((e) => e.method as string),
  );
  if (wired.size === 0) return [];
  const at = ["selfservice", "flows", flow, when];
  return identityMethods(data)
    .filter((method) => !wired.has(method))
    .map((method) =>
      finding({
        code: "method-not-wired",
        effect: "fails_at_runtime",
        at,
        path: `${pathText(at)}.${method}.hooks`,
        message: `/hooks/${hook} is wired for ${[...wired].join(", ")} but not for ${method}, which is enabled: sign-ups by ${method} skip phone normalization, routing and the deny rules`,
        fix: `add the same web_hook (and then - hook: session) to ${pathText(at)}.${method}.hooks`,
      }),
    );
}

/** The order and completeness of the hook lists: `session` last, every enabled method wired. */
export function orderFindings(data: Record<string, unknown>, entries: HookEntry[]): YamlFinding[] {
  const creating = HOOK_IDS.filter((id) => factsOf(id).createsIdentity && factsOf(id).list === "per-method");
  return [
    ...entries.map(sessionNotLast).filter((f) => f !== undefined),
    ...creating.flatMap((hook) => methodsNotWired(data, entries, hook)),
  ];
}
