import type { IdentitySchemaSet } from "../core/identity-schemas.js";
import { isJsonObject } from "../core/json.js";
import { toVerdict } from "../kratos/verdict/index.js";
import { type HookCtx, hookOfCtx, type KratosIdentity } from "./ctx-types.js";

/**
 * What Kratos does with the answer: `continue` unchanged (204, or a change it does not save),
 * `save` the changed identity, `refuse` with messages, or `fail` the flow with a generic error.
 *
 * ```ts
 * const kind: VerdictKind = (await runPolicy(myPolicy, ctx)).kind;
 * ```
 */
export type VerdictKind = "continue" | "save" | "refuse" | "fail";

/**
 * A message as Kratos shows it: under the form input `field` (`traits.email`), or above the form
 * when `field` is null. `context` is there when the message carries a non-empty one.
 *
 * ```ts
 * expect(verdict.messages).toEqual([{ field: "traits.email", id: 4190001, text: "Sign-ups need an invitation." }]);
 * ```
 */
export interface VerdictMessage {
  field: string | null;
  id: number;
  text: string;
  context?: unknown;
}

/**
 * One value the answer changes, by dotted path (`traits.phone`, `schema_id`).
 *
 * ```ts
 * expect(verdict.changes).toContainEqual({ path: "traits.phone", before: "0176 12345678", after: "+4917612345678" });
 * ```
 */
export interface VerdictChange {
  path: string;
  before: unknown;
  after: unknown;
}

/**
 * A hook's answer, read as Kratos reads it (a `web_hook` with `response.parse: true`), by the
 * engine `kratos-hooks try` uses. Plain data: compare it with `toEqual`, print it as JSON.
 *
 * ```ts
 * const verdict = await runPolicy(myPolicy, hookCtx("registration-after", { traits: { email: "a@blocked.example" } }));
 * expect(verdict.kind, verdict.explanation).toBe("refuse");
 * expect(verdict.messages[0]?.field).toBe("traits.email");
 * ```
 */
export interface Verdict {
  kind: VerdictKind;
  /**
   * On `save`: the identity Kratos saves, the ctx's identity with each field the answer sends
   * replaced whole (`schema_id`, `traits`, `metadata_public`, `state`, `metadata_admin`; an
   * `external_id` only from Kratos v25.4, which `notes` says). Undefined otherwise.
   */
  identity?: KratosIdentity;
  /** The messages Kratos shows (`refuse`); empty otherwise. */
  messages: VerdictMessage[];
  /** What the answer changes in the identity; on `continue` these are changes Kratos does not save (login-after). */
  changes: VerdictChange[];
  /** The answer's HTTP status. */
  status: number;
  /** The answer's body as JSON (`{ identity }`, `{ messages }`), null when empty, the text when it is not JSON. */
  body: unknown;
  /** The answer's body as sent. */
  text: string;
  /** What Kratos does and the rule behind it, in a sentence or two: a good assertion message. */
  explanation: string;
  /** Things that work but surprise: a message under a field the form lacks, a field Kratos ignores. */
  notes: string[];
  /**
   * The policy of yours that failed (threw, or returned a decision the service refuses) and why,
   * when `runPolicy` was told to expect it (`{ expectFailure: true }`); without that option such a
   * failure makes `runPolicy` throw. Undefined when no policy of yours failed, and always from
   * `callHook`, which calls an app it did not build and cannot see into its policies.
   */
  failure?: VerdictFailure;
}

/**
 * A policy's failure as `runPolicy(…, { expectFailure: true })` reports it: the policy's name and
 * what went wrong (the `PolicyBugError`'s message).
 *
 * ```ts
 * expect(verdict.failure).toEqual({ policy: "invite-only", message: expect.stringContaining("threw") });
 * ```
 */
export interface VerdictFailure {
  policy: string;
  message: string;
}

/** What a verdict needs to know besides the answer: the schemas Kratos re-validates a changed identity against. */
export interface VerdictSchemas {
  /** The schema ids kratos.yml lists; a saved identity with any other is a failure. Unchecked when unset. */
  schemaIds?: readonly string[] | undefined;
  /** The identity schemas to re-validate a saved identity against; an id not among them is not checked. */
  schemas?: IdentitySchemaSet | undefined;
}

function formNodesOf(ctx: HookCtx): string[] | undefined {
  const ui = ctx.flow.ui;
  if (!isJsonObject(ui) || !Array.isArray(ui.nodes)) return undefined;
  return ui.nodes
    .map((n) => (isJsonObject(n) && isJsonObject(n.attributes) ? n.attributes.name : undefined))
    .filter((n): n is string => typeof n === "string");
}

function bodyOf(text: string): unknown {
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The ctx's identity with each field the answer replaces (`parseWebhookResponse`): the engine's
 * `identity` holds schema_id, traits and metadata_public; `state` and `metadata_admin` are in its changes.
 */
function savedIdentity(ctx: HookCtx, replaced: object | undefined, changes: readonly VerdictChange[]): KratosIdentity {
  const saved: KratosIdentity = { ...(ctx.identity as KratosIdentity), ...replaced };
  for (const change of changes) if (change.path === "state" || change.path === "metadata_admin") saved[change.path] = change.after;
  return JSON.parse(JSON.stringify(saved));
}

const KIND = { continue: "continue", save: "save", stop: "refuse", fail: "fail" } as const;

/** The verdict for one answer to `ctx`, by `toVerdict` (src/kratos/verdict), as plain data. */
export function toTestingVerdict(ctx: HookCtx, answer: { status: number; text: string }, schemas: VerdictSchemas): Verdict {
  const hook = hookOfCtx(ctx);
  if (hook === undefined) throw new TypeError("the ctx carries no hook: build it with hookCtx or exampleCtx");
  const engine = toVerdict(
    hook,
    { kind: "answered", status: answer.status, body: answer.text },
    { identity: ctx.identity, formNodes: formNodesOf(ctx), schemaIds: schemas.schemaIds, schemas: schemas.schemas },
  );
  const changes = (engine.changes ?? []).map(({ path, before, after }) => ({ path, before, after }));
  const verdict: Verdict = {
    kind: KIND[engine.kind],
    ...(engine.kind === "save" ? { identity: savedIdentity(ctx, engine.identity, changes) } : {}),
    messages: (engine.messages ?? []).map(({ node, id, text, context }) => {
      const message: VerdictMessage = { field: node, id, text };
      if (context !== undefined && !(isJsonObject(context) && Object.keys(context).length === 0)) message.context = context;
      return message;
    }),
    changes,
    status: answer.status,
    body: bodyOf(answer.text),
    text: answer.text,
    explanation: `${engine.headline}. Why: ${engine.reason}`,
    notes: [...engine.notes],
  };
  return verdict;
}
