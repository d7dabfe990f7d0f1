import type { Config } from "../config/schema.js";
import { HOOK_IDS, type HookId, isHookId } from "../core/hooks.js";
import { STATUS } from "../core/http-status.js";
import { exitCodeOf, type HookOutcome, toVerdict, type Verdict } from "../kratos/verdict/index.js";
import { loadCliConfig } from "./cli-config.js";
import { type Rendered, renderTemplate } from "./jsonnet.js";
import { openKratosConfig, pathText } from "./kratos-config.js";
import { defaultJudgedKratos, type JudgedKratos } from "./kratos-version.js";
import { kratosHeaders, type ServiceKeys, serviceKeys, unauthorizedNote } from "./try-auth.js";
import { callInProcess, callOver, hookURL } from "./try-call.js";
import { readCtx, toJudgedCtx, verdictInputsOf } from "./try-ctx.js";
import { findWiring, readBodyTemplate, readSchemas, type Wiring } from "./try-wiring.js";
import { displayPath, UsageError } from "./usage.js";

// The command's parts, for main.ts: the examples (try-examples.ts) and the report as text (try-format.ts).
export { listExamples, withBareExample } from "./try-examples.js";
export { formatTry } from "./try-format.js";

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

/** Where the rendered body goes: the handler in-process, with the keys the service reads, or the one at a URL. */
type Target = { config: Config; keys: ServiceKeys } | string;

/** Sends the rendered body as Kratos would, unless the template cancelled the call or failed. */
async function send(
  hook: HookId,
  rendered: Rendered,
  wiring: Wiring,
  target: Target,
): Promise<{ outcome: HookOutcome; request: TryReport["request"] }> {
  if (rendered.kind === "cancel") return { outcome: { kind: "cancelled" }, request: null };
  if (rendered.kind === "error") return { outcome: { kind: "template-error", message: rendered.message }, request: null };
  const method = typeof wiring.config.method === "string" ? wiring.config.method : "POST";
  const headers = kratosHeaders(wiring.config);
  if (typeof target === "string") {
    const request = { method, url: target, body: rendered.value };
    return { outcome: await callOver(target, method, headers, rendered.value), request };
  }
  const request = { method, url: `in-process (/hooks/${hook})`, body: rendered.value };
  return { outcome: await callInProcess(hook, target.config, target.keys.keys, headers, rendered.value), request };
}

/** Renders the ctx, calls the handler and says what Kratos would do with the answer. */
export async function runTry(options: TryOptions): Promise<TryReport> {
  if (!isHookId(options.hook)) throw new UsageError(`unknown hook "${options.hook}"; the hooks are: ${HOOK_IDS.join(", ")}`);
  const hook = options.hook;
  const { ctx, name, notes: ctxNotes } = readCtx(options, hook);
  const config = loadCliConfig(options.config);
  // A handler at --url reads keys try cannot know.
  const keys = options.url === undefined ? serviceKeys() : { keys: [], usingDevKey: false };
  const { kratos, cwd } = openKratosConfig(options.kratos, options.cwd);
  const judged = options.version ?? defaultJudgedKratos();
  ctxNotes.push(...toJudgedCtx(ctx, hook, kratos, judged));
  const wiring = findWiring(kratos, hook);
  const template = readBodyTemplate(kratos, wiring, cwd);
  const rendered = await renderTemplate(template.text, template.where, ctx);
  const target: Target = options.url === undefined ? { config: config.config, keys } : hookURL(options.url, hook);
  const { outcome, request } = await send(hook, rendered, wiring, target);
  const { ids, schemas, notes: schemaNotes } = readSchemas(kratos, cwd);
  const verdict = toVerdict(hook, outcome, { ...verdictInputsOf(ctx), schemaIds: ids, schemas });
  verdict.notes.push(...schemaNotes);
  if (outcome.kind === "answered" && outcome.status === STATUS.unauthorized) {
    verdict.notes.push(unauthorizedNote(wiring.config, options.url === undefined ? keys : undefined));
  }
  verdict.notes.unshift(...ctxNotes);
  return {
    hook,
    kratosVersion: judged,
    ctx: options.example === undefined ? name : `example ${options.example} (${name})`,
    template: { file: template.name, wiredAt: `${displayPath(kratos.file)} ${pathText(wiring.path)}` },
    handler: typeof target === "string" ? target : `in-process, config: ${config.source}`,
    request,
    answer: outcome.kind === "answered" ? { status: outcome.status, body: outcome.body } : null,
    verdict,
    exitCode: exitCodeOf(verdict),
  };
}
