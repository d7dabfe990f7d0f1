import { parseConfig } from "../config/parse.js";
import type { JsonObject } from "../core/decision.js";
import { PolicyBugError } from "../core/decision-check.js";
import type { HookId } from "../core/hooks.js";
import { STATUS } from "../core/http-status.js";
import { createIdentitySchemaSet } from "../core/identity-schemas.js";
import { isJsonObject } from "../core/json.js";
import type { Logger } from "../core/logger.js";
import { createPolicies } from "../core/policies/index.js";
import { isBuiltInPolicy, type Policy } from "../core/policy.js";
import { createApp } from "../http/app.js";
import { hookCtx } from "./ctx.js";
import { type CtxInput, type HookCtx, hookOfCtx } from "./ctx-types.js";
import { toTestingVerdict, type Verdict } from "./verdict.js";
import { type Failure, isPolicy, watched } from "./watch.js";

/**
 * What `callHook` calls: a Hono app (`createApp(…)`, or anything with `request(path, init)`),
 * an object with `fetch(request)`, or a fetch function.
 *
 * ```ts
 * const app: HookApp = createApp({ config: parseConfig(), apiKeys: [key], logger });
 * const handler: HookApp = (request: Request) => fetch(new URL(new URL(request.url).pathname, "http://127.0.0.1:8080"), request);
 * ```
 */
export type HookApp =
  | { request(path: string, init: RequestInit): Response | Promise<Response> }
  | { fetch(request: Request): Response | Promise<Response> }
  | ((request: Request) => Response | Promise<Response>);

/**
 * What `callHook` takes besides the app and the ctx.
 *
 * ```ts
 * const options: CallHookOptions = { apiKey: "my-test-key", headers: { "Ory-Webhook-Trigger-ID": crypto.randomUUID() } };
 * ```
 */
export interface CallHookOptions {
  /** Sent as `Authorization: Bearer <apiKey>`, as Kratos's `api_key` auth does; no header when unset. */
  apiKey?: string;
  /** More request headers, such as Kratos's `Ory-Webhook-Request-ID` or `Ory-Webhook-Trigger-ID`. */
  headers?: Record<string, string>;
  /**
   * The identity schemas Kratos re-validates a saved identity against (the app's
   * `config.identitySchemas`): a save that does not fit its schema is then a `fail`, as in Kratos.
   * Unset: not re-validated.
   */
  identitySchemas?: Readonly<Record<string, JsonObject>>;
  /** The schema ids kratos.yml lists; a save to any other is a `fail`. Unset: not checked. */
  schemaIds?: readonly string[];
}

/**
 * What `runPolicy` takes besides the policy and the ctx.
 *
 * ```ts
 * const options: RunPolicyOptions = { config: { normalizePhone: { defaultRegion: "DE" } }, withBuiltIns: true };
 * ```
 */
export interface RunPolicyOptions {
  /** The configuration as `parseConfig` takes it (JSON); defaults otherwise. Its `identitySchemas` re-validate a saved identity. */
  config?: unknown;
  /** Run the built-in policies the configuration turns on first, as `[...builtInPolicies(config), policy]`; default false: the policy alone. */
  withBuiltIns?: boolean;
  /** Receives the service's and the policy's log lines; silent by default. */
  logger?: Logger;
  /** More request headers, such as `Ory-Webhook-Trigger-ID` (a policy reads it as `context.triggerId`). */
  headers?: Record<string, string>;
  /** The schema ids kratos.yml lists; a save to any other is a `fail`. Unset: not checked. */
  schemaIds?: readonly string[];
  /**
   * A policy of yours is meant to fail here (a peer that is down, a decision the service
   * refuses): return the verdict, what Kratos does with the `failMode` answer, with
   * `verdict.failure` saying which policy failed and why. Default false: `runPolicy` throws that
   * policy's `PolicyBugError` instead, so that a crash cannot pass for a refusal.
   */
  expectFailure?: boolean;
}

const SILENT: Logger = { info() {}, warn() {}, error() {} };
const KEY = "kratos-hooks-testing-key";
const ORIGIN = "http://kratos-hooks.test";

function hookOf(caller: string, ctx: unknown): HookId {
  const hook = hookOfCtx(ctx);
  if (hook === undefined) {
    throw new TypeError(
      `${caller}: expected a ctx from hookCtx or exampleCtx (it carries the hook), found ${isJsonObject(ctx) ? "an object without one" : typeof ctx}`,
    );
  }
  return hook;
}

async function send(app: HookApp, path: string, init: RequestInit): Promise<Response> {
  // fetch first: a Hono app has both `fetch` and `request`, and a Worker's `exports.default` in
  // workerd is an RPC stub, a callable proxy on which every property name exists.
  if ("fetch" in app && typeof app.fetch === "function") return app.fetch(new Request(new URL(path, ORIGIN), init));
  if (typeof app === "function") return app(new Request(new URL(path, ORIGIN), init));
  if ("request" in app && typeof app.request === "function") return app.request(path, init);
  throw new TypeError("callHook: expected an app (createApp(…)), an object with fetch(request), or a fetch function");
}

async function answerOf(app: HookApp, ctx: HookCtx, hook: HookId, headers: Record<string, string>) {
  const response = await send(app, `/hooks/${hook}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(ctx),
  });
  return { status: response.status, text: await response.text() };
}

/**
 * Sends a ctx to an app as Kratos does (`POST /hooks/<hook>`, JSON, the key as a bearer token)
 * and reads the answer as Kratos would: the same verdict `kratos-hooks try` prints.
 *
 * ```ts
 * const app = createApp({ config: parseConfig(), apiKeys: ["test-key"], logger: createConsoleLogger("error") });
 * const verdict = await callHook(app, exampleCtx("registration-after.phone-invalid"), { apiKey: "test-key" });
 * verdict.kind; // "refuse"
 * ```
 *
 * @throws TypeError for a ctx not built by hookCtx or exampleCtx, or an app that is none of `HookApp`.
 */
export async function callHook(app: HookApp, ctx: HookCtx, options: CallHookOptions = {}): Promise<Verdict> {
  const hook = hookOf("callHook", ctx);
  const headers = { ...options.headers, ...(options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` }) };
  const answer = await answerOf(app, ctx, hook, headers);
  const schemas = options.identitySchemas === undefined ? undefined : createIdentitySchemaSet(options.identitySchemas);
  const verdict = toTestingVerdict(ctx, answer, { schemaIds: options.schemaIds, schemas });
  if (answer.status === STATUS.unauthorized) {
    verdict.notes.push(
      options.apiKey === undefined
        ? "the app wants a key: pass callHook(app, ctx, { apiKey })"
        : "the app refused the key: pass one of its apiKeys (HOOKS_API_KEYS)",
    );
  }
  return verdict;
}

/**
 * Runs one policy (or a list) on a ctx through a real `createApp`, alone or after the built-in
 * policies, and reads the wire answer as Kratos would. The ctx is one from `hookCtx` or
 * `exampleCtx`, or a hook and the `hookCtx` input to build one.
 *
 * A policy of yours that throws, or returns a decision the service refuses (a denial without a
 * message, a patch on a hook that cannot save it), makes `runPolicy` throw its `PolicyBugError`
 * (the policy's name in the message, what it threw as `cause`): the service would answer it by
 * `failMode`, under the default `closed` a 422 `HOOK_FAILED` that reads as `refuse`, and a test of
 * a refusal would pass for a broken policy. To test that answer, pass `{ expectFailure: true }`:
 * the verdict comes back with `failure` set. The built-in policies are not watched: their failures
 * are answered as the service answers them.
 *
 * ```ts
 * const inviteOnly = definePolicy({
 *   name: "invite-only",
 *   hooks: ["registration-after"],
 *   decide: (input) => (input.identity.traits.email === "a@example.com" ? proceed() : denyField("email", INVITE_REQUIRED)),
 * });
 * const verdict = await runPolicy(inviteOnly, "registration-after", { traits: { email: "b@example.com" } });
 * verdict.messages; // [{ field: "traits.email", id: 4190001, text: "Sign-ups need an invitation." }]
 * const saved = await runPolicy(inviteOnly, hookCtx("registration-after", { traits: { email: "a@example.com", phone: "0176 12345678" } }), { withBuiltIns: true });
 * saved.identity; // { schema_id: "email", traits: { email: "a@example.com", phone: "+4917612345678" }, … }
 *
 * const typo = definePolicy({
 *   name: "typo",
 *   hooks: ["registration-after"],
 *   decide: (input) => ((input.identity.traits.emial as string).toLowerCase().endsWith("@closed.example") ? denyField("email", CLOSED) : proceed()),
 * });
 * await runPolicy(typo, "registration-after", {}); // rejects: PolicyBugError "runPolicy: policy typo on registration-after threw: Cannot read properties of undefined …"
 * const down = await runPolicy(linkCrm, "registration-after", {}, { expectFailure: true }); // its CRM refuses connections
 * down.kind; // "refuse": HOOK_FAILED, the answer under failMode closed
 * down.failure; // { policy: "link-crm", message: "policy link-crm on registration-after threw: fetch failed" }
 * ```
 *
 * @throws TypeError when `policy` is not a policy, none of the policies runs on the ctx's hook, or the ctx is not one (see `hookCtx`).
 * @throws PolicyBugError when a policy of yours threw or returned a decision the service refuses, unless `expectFailure` is set.
 * @throws ConfigError for a configuration `parseConfig` refuses.
 */
export async function runPolicy(policy: Policy | readonly Policy[], ctx: HookCtx, options?: RunPolicyOptions): Promise<Verdict>;
export async function runPolicy<H extends HookId>(
  policy: Policy | readonly Policy[],
  hook: H,
  input: CtxInput,
  options?: RunPolicyOptions,
): Promise<Verdict>;
export async function runPolicy(
  policy: Policy | readonly Policy[],
  target: HookCtx | HookId,
  ...rest: [RunPolicyOptions?] | [CtxInput, RunPolicyOptions?]
): Promise<Verdict> {
  const ctx = typeof target === "string" ? hookCtx(target, rest[0] as CtxInput | undefined) : target;
  const options = ((typeof target === "string" ? rest[1] : rest[0]) ?? {}) as RunPolicyOptions;
  const hook = hookOf("runPolicy", ctx);
  const mine = Array.isArray(policy) ? (policy as readonly unknown[]) : [policy];
  const bad = mine.find((p) => !isPolicy(p));
  if (mine.length === 0 || bad !== undefined) {
    throw new TypeError(
      `runPolicy: expected a policy from definePolicy (or a list of them), found ${mine.length === 0 ? "none" : typeof bad}`,
    );
  }
  const policies = mine as readonly Policy[];
  if (!policies.some((p) => p.hooks.has(hook))) {
    const names = policies.map((p) => `${p.name} (${[...p.hooks].join(", ")})`).join(", ");
    throw new TypeError(
      `runPolicy: ${names} ${policies.length === 1 ? "does" : "do"} not run on ${hook}: the answer would be a 204 that tests nothing`,
    );
  }
  const config = parseConfig(options.config ?? {}, "runPolicy() config");
  const failures: Failure[] = [];
  // The built-ins keep their identity (`isBuiltInPolicy`): the app answers their failures closed.
  const run = policies.map((p) => (isBuiltInPolicy(p) ? p : watched(p, failures)));
  const app = createApp({
    config,
    apiKeys: [KEY],
    logger: options.logger ?? SILENT,
    policies: options.withBuiltIns === true ? [...createPolicies(config), ...run] : run,
  });
  const answer = await answerOf(app, ctx, hook, { ...options.headers, authorization: `Bearer ${KEY}` });
  const verdict = toTestingVerdict(ctx, answer, { schemaIds: options.schemaIds, schemas: createIdentitySchemaSet(config.identitySchemas) });
  const failed = failures[0];
  if (failed !== undefined) {
    if (options.expectFailure !== true) {
      throw new PolicyBugError(
        `runPolicy: ${failed.message}. The service answers this by failMode (here ${verdict.status}, read as "${verdict.kind}"), ` +
          "which a test could take for the policy's own decision, so runPolicy throws; meant to fail? Pass { expectFailure: true }",
        { cause: failed.cause },
      );
    }
    verdict.failure = { policy: failed.policy, message: failed.message };
  }
  return verdict;
}
