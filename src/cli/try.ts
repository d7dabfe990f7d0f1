import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/schema.js";
import { factsOf, HOOK_IDS, type HookId, hookAt, isHookId } from "../core/hooks.js";
import { createIdentitySchemaSet } from "../core/identity-schemas.js";
import { isJsonObject } from "../core/json.js";
import { createApp } from "../http/app.js";
import { exitCodeOf, type HookOutcome, toVerdict, type Verdict } from "../kratos/verdict/index.js";
import { loadCliConfig } from "./cli-config.js";
import { acceptedKeys, keyRefusal } from "./doctor-auth.js";
import { renderTemplate } from "./jsonnet.js";
import { fetchKratosURL, type KratosConfig, listHooks, openKratosConfig, pathText, routeOf } from "./kratos-config.js";
import { canonicalHeaderKey, forwardedHeaders, kratosAuthSent } from "./kratos-headers.js";
import { defaultJudgedKratos, featuresOf, formatJudgedKratos, type JudgedKratos } from "./kratos-version.js";
import { displayPath, PACKAGE_ROOT, UsageError } from "./usage.js";

export interface TryOptions {
  hook: string;
  ctxFile?: string | undefined;
  example?: string | undefined;
  config?: string | undefined;
  kratos?: string | undefined;
  cwd?: string | undefined;
  url?: string | undefined;
  /** The Kratos release to judge for (`--kratos-version`, `--admin-url`); default: `defaultJudgedKratos()`. */
  version?: JudgedKratos | undefined;
}

export interface TryReport {
  hook: HookId;
  /** The release the verdict holds for, and where `try` learnt it. */
  kratosVersion: JudgedKratos;
  ctx: string;
  template: { file: string; wiredAt: string };
  handler: string;
  request: { method: string; url: string; body: unknown } | null;
  answer: { status: number; body: string } | null;
  verdict: Verdict;
  exitCode: 0 | 1;
}

const EXAMPLES_DIR = join(PACKAGE_ROOT, "kratos", "examples");

/** The shipped example contexts for a hook: `kratos/examples/<hook>.<scenario>.json`. */
function examplesOf(hook: string): string[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((f) => f.startsWith(`${hook}.`) && f.endsWith(".json"))
    .map((f) => f.slice(hook.length + 1, -5))
    .sort();
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

const NIL_UUID = "00000000-0000-0000-0000-000000000000";
/**
 * `identity.id` for a hand-written login-after or settings-after ctx without one: Kratos always
 * sends the stored identity's id there, and the shipped templates read it. A fixed placeholder,
 * not the nil UUID, which is what Kratos sends for an identity not stored yet (registration-after).
 */
const PLACEHOLDER_IDENTITY_ID = "00000000-0000-4000-8000-000000000001";

/**
 * Fills in what Kratos always puts in the ctx (`selfservice/hook/web_hook.go` templateContext;
 * an identity's id, the nil UUID before it is stored, and its metadata_public, null when unset)
 * and a hand-written ctx may leave out, so a template reading it does not fail where Kratos would
 * not. Returns the paths it filled.
 */
function completeCtx(ctx: Record<string, unknown>, hook: HookId): string[] {
  const filled: string[] = [];
  const fill = (target: Record<string, unknown>, key: string, value: unknown, path: string) => {
    if (key in target) return;
    target[key] = value;
    filled.push(`${path} (${JSON.stringify(value)})`);
  };
  if (!isJsonObject(ctx.flow)) fill(ctx, "flow", {}, "flow");
  const flow = ctx.flow as Record<string, unknown>;
  fill(flow, "id", NIL_UUID, "flow.id");
  fill(flow, "type", "api", "flow.type");
  fill(ctx, "request_headers", {}, "request_headers");
  fill(ctx, "request_method", "POST", "request_method");
  fill(ctx, "request_url", "", "request_url");
  fill(ctx, "request_cookies", {}, "request_cookies");
  const facts = factsOf(hook);
  if (facts.hasIdentity && isJsonObject(ctx.identity)) {
    fill(ctx.identity, "id", facts.createsIdentity ? NIL_UUID : PLACEHOLDER_IDENTITY_ID, "identity.id");
    fill(ctx.identity, "metadata_public", null, "identity.metadata_public");
  }
  return filled;
}

function readCtx(options: TryOptions, hook: HookId): { ctx: Record<string, unknown>; name: string; notes: string[] } {
  let file: string;
  if (options.example !== undefined) {
    const examples = examplesOf(hook);
    if (!examples.includes(options.example)) {
      throw new UsageError(`no example "${options.example}" for ${hook}; the examples are: ${examples.join(", ")}`);
    }
    file = join(EXAMPLES_DIR, `${hook}.${options.example}.json`);
  } else if (options.ctxFile !== undefined) {
    file = options.ctxFile;
  } else {
    throw new UsageError(`give a ctx file or --example <scenario> (for ${hook}: ${examplesOf(hook).join(", ")})`);
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read the ctx file ${file} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  let ctx: unknown;
  try {
    ctx = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the ctx file ${file} is not JSON: ${(error as Error).message}`);
  }
  const notes: string[] = [];
  // A ctx copied from a log line or a capture is often wrapped as {"ctx": {…}}.
  if (isJsonObject(ctx) && isJsonObject(ctx.ctx) && !("identity" in ctx) && !("flow" in ctx)) {
    ctx = ctx.ctx;
    notes.push(`the ctx file wraps the ctx as {"ctx": …}; try unwrapped it (Kratos's template gets the inner object as ctx)`);
  }
  if (!isJsonObject(ctx))
    throw new UsageError(
      `the ctx file ${file} must hold a JSON object (Kratos's ctx), found ${Array.isArray(ctx) ? "an array" : typeof ctx}`,
    );
  if (factsOf(hook).hasIdentity && !isJsonObject(ctx.identity)) {
    throw new UsageError(`the ctx file ${file} has no "identity" object, which Kratos always sends to ${hook}`);
  }
  const filled = completeCtx(ctx, hook);
  if (filled.length > 0) {
    notes.push(
      `the ctx file lacks fields Kratos always sends; try filled them in: ${filled.join(", ")}. A failure is not Kratos's when only these differ`,
    );
  }
  return { ctx, name: displayPath(file), notes };
}

/**
 * What the judged release leaves out of the ctx it builds, taken out of this one so that the
 * verdict is the one that release acts on; returns a note for each change.
 * - `ctx.request_headers`: only the names Kratos forwards (17 fixed before v25.4, else
 *   `clients.web_hook.header_allowlist`); a ctx Kratos built already holds no others.
 * - `ctx.flow.transient_payload` on settings hooks: v26.2.0 does not pass it (measured: the same
 *   submission gives `{"phone_region":"DE"}` on v1.3.1 and nothing on v26.2.0).
 */
function toJudgedCtx(ctx: Record<string, unknown>, hook: HookId, kratos: KratosConfig, judged: JudgedKratos): string[] {
  const notes: string[] = [];
  const features = featuresOf(judged);
  const measured = judged.version === judged.judgedAs ? "" : ` (measured on ${judged.judgedAs}; ${judged.version} is judged as it)`;
  const flow = ctx.flow as Record<string, unknown>;
  if (factsOf(hook).flow === "settings" && !features.settingsTransientPayload && "transient_payload" in flow) {
    delete flow.transient_payload;
    notes.push(
      `Kratos ${judged.version} does not pass flow.transient_payload to settings hooks${measured}: try dropped it from the ctx, as Kratos would`,
    );
  }
  if (isJsonObject(ctx.request_headers)) {
    const forwarded = forwardedHeaders(kratos.data, features);
    const dropped = Object.keys(ctx.request_headers).filter((name) => !forwarded.names.has(canonicalHeaderKey(name)));
    for (const name of dropped) delete ctx.request_headers[name];
    if (dropped.length > 0) {
      const list =
        forwarded.source === "fixed"
          ? "its 17 fixed request headers (before v25.4)"
          : `the headers in clients.web_hook.header_allowlist${forwarded.source === "default" ? " (not set: its 17 defaults)" : ""}`;
      notes.push(
        `Kratos ${judged.version} passes web_hooks only ${list}: try dropped ${dropped.join(", ")} from request_headers, as Kratos would`,
      );
    }
  }
  return notes;
}

/** The web_hook wired to our route for `hook`, preferring the place the hook belongs. */
function findWiring(kratos: KratosConfig, hook: HookId) {
  const wired = listHooks(kratos.data).filter((e) => {
    const route = e.name === "web_hook" ? routeOf(e.config?.url) : null;
    return route !== null && "id" in route && route.id === hook;
  });
  const entry = wired.find((e) => hookAt(e.flow, e.when) === hook) ?? wired[0];
  if (entry?.config === undefined) {
    throw new UsageError(`${kratos.file} wires no web_hook to /hooks/${hook}; run \`kratos-hooks doctor ${kratos.file}\``);
  }
  return entry as typeof entry & { config: Record<string, unknown> };
}

function schemasOf(kratos: KratosConfig, cwd: string) {
  const identity = isJsonObject(kratos.data.identity) ? kratos.data.identity : {};
  const list = Array.isArray(identity.schemas) ? identity.schemas.filter(isJsonObject) : [];
  const ids = list.map((s) => s.id).filter((id): id is string => typeof id === "string");
  const documents: Record<string, Record<string, unknown>> = {};
  // One note per schema try cannot read: the verdict then judges a save to it without re-validating it.
  const notes: string[] = [];
  const unread = (id: string, url: string, why: string) =>
    notes.push(`identity schema ${id} (${url}): ${why}; a save to it is not re-validated`);
  for (const schema of list) {
    if (typeof schema.id !== "string" || typeof schema.url !== "string") continue;
    const fetched = fetchKratosURL(schema.url, cwd);
    if (!fetched.ok) {
      unread(schema.id, schema.url, fetched.why);
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(fetched.text);
    } catch (error) {
      unread(schema.id, schema.url, `not JSON (${(error as Error).message})`);
      continue;
    }
    if (isJsonObject(parsed)) documents[schema.id] = parsed;
    else unread(schema.id, schema.url, "not a JSON object");
  }
  return { ids, schemas: createIdentitySchemaSet(documents), notes };
}

/** The headers Kratos sends for a web_hook config (`request/builder.go`, `request/auth.go`). */
function kratosHeaders(config: Record<string, unknown>): Record<string, string> {
  const headers: Record<string, string> = {};
  if (isJsonObject(config.headers)) {
    for (const [k, v] of Object.entries(config.headers)) if (typeof v === "string") headers[k] = v;
  }
  if (!Object.keys(headers).some((k) => k.toLowerCase() === "content-type")) headers["Content-Type"] = "application/json";
  const auth = kratosAuthSent(config.auth);
  if (auth?.in === "cookie") headers.Cookie = `${auth.name}=${auth.value}`;
  else if (auth !== undefined) headers[auth.name] = auth.value;
  return headers;
}

/** The keys the service would accept (HOOKS_API_KEYS, else the development key); a bad value is a usage error. */
function serviceKeys(): { keys: readonly string[]; usingDevKey: boolean } {
  const accepted = acceptedKeys(process.env);
  if (!accepted.ok) throw new UsageError(accepted.message);
  return accepted;
}

/** The handler in-process, with the keys the service reads and the auth header kratos.yml makes Kratos send. */
async function callInProcess(
  hook: HookId,
  config: Config,
  keys: readonly string[],
  headers: Record<string, string>,
  body: unknown,
): Promise<HookOutcome> {
  const quiet = { info() {}, warn() {}, error() {} };
  const app = createApp({ config, apiKeys: keys, logger: quiet });
  const response = await app.request(`/hooks/${hook}`, { method: "POST", headers, body: JSON.stringify(body) });
  return { kind: "answered", status: response.status, body: await response.text() };
}

function hookURL(base: string, hook: HookId): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`--url must be an http(s) URL such as http://127.0.0.1:8787, found ${JSON.stringify(base)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`--url must be an http(s) URL, found ${base}`);
  if (/\/hooks\/[^/]+\/?$/.test(url.pathname)) return url.href;
  return new URL(`hooks/${hook}`, url.href.endsWith("/") ? url.href : `${url.href}/`).href;
}

async function callOver(url: string, method: string, headers: Record<string, string>, body: unknown): Promise<HookOutcome> {
  try {
    const response = await fetch(url, {
      method,
      headers,
      body: method === "TRACE" ? null : JSON.stringify(body, null, 3),
      redirect: "manual",
      signal: AbortSignal.timeout(30_000),
    });
    return {
      kind: "answered",
      status: response.status,
      body: await response.text(),
      location: response.headers.get("location") ?? undefined,
    };
  } catch (error) {
    if ((error as Error).name === "TimeoutError") return { kind: "timeout" };
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { kind: "unreachable", message: cause?.code ?? cause?.message ?? (error as Error).message };
  }
}

/** Renders the ctx, calls the handler and says what Kratos would do with the answer. */
export async function runTry(options: TryOptions): Promise<TryReport> {
  if (!isHookId(options.hook)) throw new UsageError(`unknown hook "${options.hook}"; the hooks are: ${HOOK_IDS.join(", ")}`);
  const hook = options.hook;
  const { ctx, name, notes: ctxNotes } = readCtx(options, hook);
  const config = loadCliConfig(options.config);
  const keys = options.url === undefined ? serviceKeys() : { keys: [], usingDevKey: false };
  const { kratos, cwd } = openKratosConfig(options.kratos, options.cwd);
  const judged = options.version ?? defaultJudgedKratos();
  ctxNotes.push(...toJudgedCtx(ctx, hook, kratos, judged));
  const wiring = findWiring(kratos, hook);
  const bodyURL = wiring.config.body;
  if (typeof bodyURL !== "string") throw new UsageError(`${pathText(wiring.path)}.config has no body template in ${kratos.file}`);
  const template = fetchKratosURL(bodyURL, cwd);
  if (!template.ok)
    throw new UsageError(
      `the body template of ${pathText(wiring.path)}: ${template.why} (Kratos's working directory assumed: ${cwd}; change it with --cwd)`,
    );
  const templateName = template.where === "base64://…" ? bodyURL.slice(0, 24) : displayPath(template.where);

  const rendered = await renderTemplate(template.text, template.where, ctx);
  const method = typeof wiring.config.method === "string" ? wiring.config.method : "POST";
  const target = options.url === undefined ? `in-process (/hooks/${hook})` : hookURL(options.url, hook);
  let outcome: HookOutcome;
  let request: TryReport["request"] = null;
  if (rendered.kind === "cancel") outcome = { kind: "cancelled" };
  else if (rendered.kind === "error") outcome = { kind: "template-error", message: rendered.message };
  else {
    request = { method, url: target, body: rendered.value };
    outcome =
      options.url === undefined
        ? await callInProcess(hook, config.config, keys.keys, kratosHeaders(wiring.config), rendered.value)
        : await callOver(target, method, kratosHeaders(wiring.config), rendered.value);
  }
  const identity = isJsonObject(ctx.identity) ? ctx.identity : undefined;
  const flow = isJsonObject(ctx.flow) ? ctx.flow : {};
  const ui = isJsonObject(flow.ui) ? flow.ui : {};
  const formNodes = Array.isArray(ui.nodes)
    ? ui.nodes
        .map((n) => (isJsonObject(n) && isJsonObject(n.attributes) ? n.attributes.name : undefined))
        .filter((n): n is string => typeof n === "string")
    : undefined;
  const { ids, schemas, notes: schemaNotes } = schemasOf(kratos, cwd);
  const verdict = toVerdict(hook, outcome, { identity, formNodes, schemaIds: ids, schemas });
  verdict.notes.push(...schemaNotes);
  if (outcome.kind === "answered" && outcome.status === 401) {
    const why =
      (options.url === undefined ? keyRefusal(wiring.config, keys.keys, keys.usingDevKey) : undefined) ??
      'the handler refused the credentials kratos.yml sends (401): Kratos shows the client a generic error and logs "error while parsing webhook response: got no validation errors"';
    verdict.notes.push(
      `${why}; set the same key in HOOKS_API_KEYS and in the hook's auth (\`kratos-hooks doctor\` lists every hook it affects)`,
    );
  }
  verdict.notes.unshift(...ctxNotes);
  return {
    hook,
    kratosVersion: judged,
    ctx: options.example === undefined ? name : `example ${options.example} (${name})`,
    template: { file: templateName, wiredAt: `${displayPath(kratos.file)} ${pathText(wiring.path)}` },
    handler: options.url === undefined ? `in-process, config: ${config.source}` : target,
    request,
    answer: outcome.kind === "answered" ? { status: outcome.status, body: outcome.body } : null,
    verdict,
    exitCode: exitCodeOf(verdict),
  };
}

function show(value: unknown): string {
  return value === undefined ? "(absent)" : JSON.stringify(value);
}

const LABEL = { continue: "CONTINUE", save: "SAVE", stop: "STOP", fail: "FAIL" } as const;

/** The report as a person reads it. */
export function formatTry(report: TryReport): string {
  const { verdict } = report;
  const lines = [
    `hook      ${report.hook}`,
    `ctx       ${report.ctx}`,
    `template  ${report.template.file} (wired at ${report.template.wiredAt})`,
    `handler   ${report.handler}`,
    `kratos    ${formatJudgedKratos(report.kratosVersion)}`,
  ];
  if (report.answer !== null) {
    const body = report.answer.body.length > 240 ? `${report.answer.body.slice(0, 240)}…` : report.answer.body;
    lines.push(`answer    ${report.answer.status}${body === "" ? " (empty body)" : ` ${body}`}`);
  } else if (report.request === null) {
    lines.push("answer    (no request sent)");
  }
  lines.push("", `${LABEL[verdict.kind]}  ${verdict.headline}`);
  const width = Math.max(0, ...(verdict.changes ?? []).map((c) => c.path.length));
  for (const change of verdict.changes ?? []) {
    lines.push(`      ${change.path.padEnd(width)}  ${show(change.before)} → ${show(change.after)}`);
  }
  if (verdict.kind === "stop") {
    for (const m of verdict.messages ?? []) {
      lines.push(`      ${m.node ?? "(global)"}  [${m.id}, ${m.type}] ${m.text}`);
    }
  }
  lines.push(`      why: ${verdict.reason}`);
  for (const note of verdict.notes) lines.push(`      note: ${note}`);
  return `${lines.join("\n")}\n`;
}
