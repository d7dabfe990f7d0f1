import type { HookId } from "../core/hooks.js";
import { isJsonObject } from "../core/json.js";
import { type MethodFlow, SELF_SERVICE_FLOWS, type SelfServiceFlow } from "../kratos/self-service.js";
import { isParse, pathText, routeOf } from "./kratos-config.js";

// Which hooks Kratos really runs, per flow, phase and method: one model of its selection rules
// (driver/registry_default_{registration,login,settings,recovery,verification}.go and
// registry_default_hooks.go's getHooks, the same at v1.3.1 and v26.2.0 but where `modern` says).
// The doctor prints it (`doctor --hooks`) and draws findings from it; test/e2e/
// hook-table-agreement.e2e.test.ts holds it to what real Kratos calls, on both releases.

/** Where in a flow a hook list runs: before the flow, or after; registration and settings split the after into two steps. */
export type Step = "pre-persist" | "post-persist";

/** One hook of a row, in the order Kratos runs it. */
export interface TableHook {
  /** `web_hook`, `session`, `revoke_active_sessions`, … as in kratos.yml, or a hook Kratos inserts. */
  hook: string;
  /** Inserted by Kratos itself, not listed in the file (the verification hook, v1.3.1's two-step registration). */
  internal?: true;
  /** A web_hook's URL. */
  url?: string;
  /** The kratos-hooks route a web_hook calls (`login-after`), or null when it is not one of ours. */
  route?: HookId | null;
  /** The entry's key path in kratos.yml, for a hook from the file. */
  from?: string;
  /** For registration and settings after: before or after Kratos saves the identity. */
  step?: Step;
  /** False when Kratos builds the hook into the list but skips it here (a parse web_hook after persisting). */
  runs: boolean;
  /** `response.ignore`: sent in the background, never waited for or read. */
  async?: true;
  /** Why it does not run, or what to know about it. */
  why?: string;
}

/** The hooks one (flow, phase, method) runs, in order. */
export interface HookRow {
  flow: SelfServiceFlow;
  phase: "before" | "after";
  /** The method (`password`, `code`, `profile`, …); null for before rows and for flows without per-method lists. */
  method: string | null;
  hooks: TableHook[];
}

/** What the model needs to know about the Kratos release. */
export interface ModelRelease {
  /** v25.4 or later: no code-address verifier, no two-step registration hook, show_verification_ui after settings. */
  modern: boolean;
}

type Kind =
  | "before"
  | "registration-pre"
  | "registration-post"
  | "login-after"
  | "settings-pre"
  | "settings-post"
  | "recovery-after"
  | "verification-after";

// The hook names Kratos executes in each list (getHooks' type switch): any other name is dropped,
// and a list left with none counts as empty, so the flow's own list applies instead.
const EXECUTORS: Record<Kind, readonly string[]> = {
  before: ["web_hook"],
  "registration-pre": ["web_hook"],
  "registration-post": ["web_hook", "session", "show_verification_ui", "verification"],
  "login-after": ["web_hook", "revoke_active_sessions", "require_verified_address", "verification", "show_verification_ui"],
  "settings-pre": ["web_hook"],
  "settings-post": ["web_hook", "revoke_active_sessions", "verification"],
  "recovery-after": ["web_hook", "revoke_active_sessions"],
  "verification-after": ["web_hook"],
};

function executors(kind: Kind, release: ModelRelease): readonly string[] {
  return kind === "settings-post" && release.modern ? [...EXECUTORS[kind], "show_verification_ui"] : EXECUTORS[kind];
}

function at(data: unknown, path: readonly string[]): unknown {
  let node = data;
  for (const key of path) node = isJsonObject(node) ? node[key] : undefined;
  return node;
}

/** A list's entries with their paths; an absent list is empty. */
function entries(data: Record<string, unknown>, path: readonly string[]): { entry: Record<string, unknown>; from: string }[] {
  const list = at(data, path);
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry, index) => (isJsonObject(entry) ? [{ entry, from: pathText([...path, index]) }] : []));
}

/** getHooks: the executors of `kind` in file order, `session` moved last (once) whatever its place. */
function build(data: Record<string, unknown>, path: readonly string[], kind: Kind, release: ModelRelease): TableHook[] {
  const names = executors(kind, release);
  const out: TableHook[] = [];
  let session: string | undefined;
  for (const { entry, from } of entries(data, path)) {
    if (entry.hook === "session") session ??= from;
    else if (typeof entry.hook === "string" && names.includes(entry.hook)) out.push(tableHook(entry, from, kind));
  }
  if (session !== undefined && names.includes("session")) out.push({ hook: "session", from: session, runs: true });
  return out;
}

/** A hook from the file, and whether it runs in this kind of list (web_hook.go's phase gates). */
function tableHook(entry: Record<string, unknown>, from: string, kind: Kind): TableHook {
  const hook = String(entry.hook);
  if (hook !== "web_hook") return { hook, from, runs: true };
  const config = isJsonObject(entry.config) ? entry.config : {};
  const route = routeOf(config.url);
  const reads = isParse(config) || config.can_interrupt === true;
  const ignored = isJsonObject(config.response) && config.response.ignore === true;
  const pre = kind === "registration-pre" || kind === "settings-pre";
  const post = kind === "registration-post" || kind === "settings-post";
  const runs = pre ? reads : post ? !reads : true;
  return {
    hook,
    ...(typeof config.url === "string" && { url: config.url }),
    route: route !== null && "id" in route ? route.id : null,
    from,
    runs,
    ...(ignored && { async: true as const }),
    ...(!runs && {
      why: pre ? "not parse, so it runs after saving" : "parse, so it ran before saving",
    }),
  };
}

const flowPath = (flow: SelfServiceFlow, ...rest: string[]) => ["selfservice", "flows", flow, ...rest];

/** The list kind of a flow's after hooks that a method's list can replace: post-persist where there are two steps. */
const replaceable = (flow: MethodFlow): Kind => (flow === "login" ? "login-after" : `${flow}-post`);

/**
 * The flow's own after list (`selfservice.flows.<flow>.after.hooks`) as Kratos builds it where no
 * method list replaces it: post-persist for registration and settings.
 */
export function flowAfterList(data: Record<string, unknown>, flow: MethodFlow, release: ModelRelease): TableHook[] {
  return build(data, flowPath(flow, "after", "hooks"), replaceable(flow), release);
}

/** A method's own list, else the flow's (when the method's yields no executor): all or nothing. */
function methodOrGlobal(data: Record<string, unknown>, flow: MethodFlow, method: string, release: ModelRelease): TableHook[] {
  const own = build(data, flowPath(flow, "after", method, "hooks"), replaceable(flow), release);
  return own.length > 0 ? own : flowAfterList(data, flow, release);
}

function verificationOn(data: Record<string, unknown>): boolean {
  return at(data, ["selfservice", "flows", "verification", "enabled"]) === true;
}

const VERIFIER: TableHook = { hook: "verification", internal: true, runs: true, why: "Kratos adds it when verification is enabled" };

/** Registration or settings after one method: the method's pre-persist list, then post-persist (its own, else the flow's). */
function saving(data: Record<string, unknown>, flow: "registration" | "settings", method: string, release: ModelRelease): TableHook[] {
  const pre = build(data, flowPath(flow, "after", method, "hooks"), `${flow}-pre`, release);
  if (flow === "registration" && method === "code" && !release.modern && codeOf(data).passwordless_enabled === true)
    pre.unshift({ hook: "code_address_verifier", internal: true, runs: true, why: "v1.3.1 adds it for code sign-ups (removed in v25.4)" });
  const post = methodOrGlobal(data, flow, method, release);
  if (verificationOn(data)) post.unshift(VERIFIER);
  return [...pre.map((h) => ({ ...h, step: "pre-persist" as const })), ...post.map((h) => ({ ...h, step: "post-persist" as const }))];
}

function methodsOf(data: Record<string, unknown>): Record<string, unknown> {
  const methods = at(data, ["selfservice", "methods"]);
  return isJsonObject(methods) ? methods : {};
}

function codeOf(data: Record<string, unknown>): Record<string, unknown> {
  const code = at(data, ["selfservice", "methods", "code"]);
  const config = isJsonObject(code) && isJsonObject(code.config) ? code.config : {};
  return { ...config, ...(isJsonObject(code) ? code : {}) };
}

/** `selfservice.methods.<m>.enabled`, with Kratos's defaults: password, code and profile are on unless turned off. */
function enabled(data: Record<string, unknown>, method: string): boolean {
  const m = methodsOf(data)[method];
  const flag = isJsonObject(m) ? m.enabled : undefined;
  if (method === "code" && codeOf(data).passwordless_enabled === true) return true;
  return ["password", "code", "profile"].includes(method) ? flag !== false : flag === true;
}

/** The methods each flow can end by, as the file enables them (docs/kratos-wiring.md#why-my-hook-doesnt-fire). */
export function methodsFor(data: Record<string, unknown>, flow: MethodFlow): string[] {
  const code = codeOf(data);
  const webauthn = at(methodsOf(data), ["webauthn", "config", "passwordless"]) === true;
  const candidates: Record<MethodFlow, [string, boolean][]> = {
    registration: [
      ["password", true],
      ["code", code.passwordless_enabled === true],
      ["oidc", true],
      ["webauthn", webauthn],
      ["passkey", true],
    ],
    login: [
      ["password", true],
      ["code", code.passwordless_enabled === true || code.mfa_enabled === true],
      ["oidc", true],
      ["webauthn", true],
      ["passkey", true],
      ["totp", true],
      ["lookup_secret", true],
    ],
    settings: ["profile", "password", "totp", "lookup_secret", "webauthn", "passkey", "oidc"].map((m) => [m, true]),
  };
  return candidates[flow].filter(([method, possible]) => possible && enabled(data, method)).map(([method]) => method);
}

function beforeRow(data: Record<string, unknown>, flow: SelfServiceFlow, release: ModelRelease): HookRow {
  const hooks = build(data, flowPath(flow, "before", "hooks"), "before", release);
  if (flow === "registration" && !release.modern && at(data, flowPath(flow, "enable_legacy_one_step")) !== true)
    hooks.push({ hook: "two_step_registration", internal: true, runs: true, why: "v1.3.1 splits the sign-up form in two steps" });
  return { flow, phase: "before", method: null, hooks };
}

/** Whether a flow runs at all: login and settings always; registration unless disabled; recovery and verification when enabled. */
function flowOn(data: Record<string, unknown>, flow: SelfServiceFlow): boolean {
  const flag = at(data, flowPath(flow, "enabled"));
  if (flow === "login" || flow === "settings") return true;
  return flow === "registration" ? flag !== false : flag === true;
}

/** The effective hook table of a kratos.yml for a release: every flow that runs, its before row, then an after row per method. */
export function hookTable(data: Record<string, unknown>, release: ModelRelease): HookRow[] {
  const rows: HookRow[] = [];
  for (const flow of SELF_SERVICE_FLOWS) {
    if (!flowOn(data, flow)) continue;
    rows.push(beforeRow(data, flow, release));
    if (flow === "registration" || flow === "settings") {
      for (const method of methodsFor(data, flow)) rows.push({ flow, phase: "after", method, hooks: saving(data, flow, method, release) });
    } else if (flow === "login") {
      for (const method of methodsFor(data, flow))
        rows.push({ flow, phase: "after", method, hooks: methodOrGlobal(data, flow, method, release) });
    } else {
      rows.push({ flow, phase: "after", method: null, hooks: build(data, flowPath(flow, "after", "hooks"), `${flow}-after`, release) });
    }
  }
  return rows;
}
