import {
  CONTINUE,
  type CustomMessage,
  type Decision,
  type Denial,
  GLOBAL_POINTER,
  type HookInput,
  type IdentityPatch,
  type IdentityView,
  type JsonObject,
  traitPointer,
} from "./decision.js";
import { customMessageProblem } from "./decision-check.js";
import { type AfterHookId, canPatchIdentity as canPatch, type HookId, isHookId, type PatchableHookId } from "./hooks.js";
import { MESSAGES, type MessageKey } from "./messages.js";
import type { Policy, PolicyContext } from "./policy.js";

/**
 * What a policy for the hooks `H` receives: the identity is there on after-hooks and absent on
 * before-hooks, so `definePolicy({ hooks: ["registration-after"], … })` reads
 * `input.identity.traits` without a check.
 */
export type InputOf<H extends HookId> = H extends HookId
  ? Omit<HookInput, "hook" | "identity"> & { hook: H; identity: H extends AfterHookId ? IdentityView : undefined }
  : never;

/** A decision that lets the flow go on unchanged: `proceed()`. */
export type ContinueDecision = Extract<Decision, { kind: "continue" }>;
/** A refusal with messages: `denyField`, `denyForm`, `denyAll`. */
export type DenyDecision = Extract<Decision, { kind: "deny" }>;
/** A change to the identity Kratos saves: `patch…`; answered only on registration-after and settings-after. */
export type PatchDecision = Extract<Decision, { kind: "patch" }>;

/**
 * What a policy for the hooks `H` may decide: a patch only where Kratos saves it
 * (registration-after, settings-after). A policy on login-after or a before-hook that returns a
 * patch is a type error. A policy on both kinds may patch, after narrowing on `input.hook`:
 * the `patchTraits` and `patchMetadataPublic` helpers take the input and accept only a hook
 * that saves.
 */
export type DecisionOn<H extends HookId> = [H] extends [Exclude<HookId, PatchableHookId>] ? ContinueDecision | DenyDecision : Decision;

/** What `definePolicy` takes. */
export interface PolicySpec<H extends HookId> {
  /** Names the policy in logs (`policy`), metrics and errors: letters, digits, `.`, `_`, `-`. */
  name: string;
  /** The hooks it runs on, e.g. `["registration-after", "settings-after"]`. */
  hooks: readonly H[];
  /**
   * Decides on one hook call. May be async (a database, an HTTP API): pass `context.signal` to
   * the I/O, it fires when the time budget (`budgetMs`) is spent, and the answer then follows
   * `failMode`. Return `proceed()`, a `deny…` or a `patch…` decision.
   */
  /**
   * How this policy's timeout or failure is answered, over the configuration's `failMode`:
   * `closed` (a refusal with HOOK_TIMEOUT or HOOK_FAILED) for a policy that guards, such as an
   * invite check, so that its outage never lets a sign-up through; `open` (go on with what the
   * policies before decided) for one that only enriches, such as a tag. Unset: the configuration's.
   */
  failMode?: "open" | "closed";
  decide(input: InputOf<H>, context: PolicyContext): DecisionOn<H> | Promise<DecisionOn<H>>;
}

const POLICY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Defines a policy of your own: a name, the hooks it applies to, and `decide`. Runs after or
 * beside the built-in policies (`builtInPolicies(config)`), in the order you list them: patches
 * accumulate, each later policy sees the patched identity, and the first denial wins. Whatever
 * `decide` returns is checked before anything is answered; a decision Kratos would misread
 * (a denial without a message, a patch on a before-hook, an id from Kratos's blocks) is a
 * failure, like a throw: answered by `failMode` (docs/library.md#when-a-policy-fails) and logged
 * at error, never passed on.
 *
 * ```ts
 * import { definePolicy, denyField, proceed } from "kratos-hooks";
 * const inviteOnly = definePolicy({ name: "invite-only", hooks: ["registration-after"],
 *   decide: async (input) => ((await isInvited(input.identity.traits.email)) ? proceed() : denyField("email", INVITE_REQUIRED)) });
 * ```
 *
 * @throws TypeError when the name or a hook is not valid.
 */
export function definePolicy<const H extends HookId>(spec: PolicySpec<H>): Policy {
  if (typeof spec.name !== "string" || !POLICY_NAME.test(spec.name)) {
    throw new TypeError(`definePolicy: name: expected letters, digits, ".", "_" or "-" (at most 64), found ${JSON.stringify(spec.name)}`);
  }
  if (!Array.isArray(spec.hooks) || spec.hooks.length === 0) {
    throw new TypeError(`definePolicy(${spec.name}): hooks: expected at least one hook, e.g. ["registration-after"]`);
  }
  for (const hook of spec.hooks) {
    if (typeof hook !== "string" || !isHookId(hook))
      throw new TypeError(`definePolicy(${spec.name}): hooks: unknown hook ${JSON.stringify(hook)}`);
  }
  if (typeof spec.decide !== "function") throw new TypeError(`definePolicy(${spec.name}): decide: expected a function`);
  if (spec.failMode !== undefined && spec.failMode !== "open" && spec.failMode !== "closed")
    throw new TypeError(`definePolicy(${spec.name}): failMode: expected "open" or "closed", found ${JSON.stringify(spec.failMode)}`);
  const decide = spec.decide;
  return Object.freeze({
    name: spec.name,
    hooks: new Set<HookId>(spec.hooks),
    failMode: spec.failMode,
    decide: (input: HookInput, context: PolicyContext) => decide(input as InputOf<H>, context),
  });
}

/**
 * Defines a message of your own. `key` names it in logs and metrics (`INVITE_REQUIRED`), `id`
 * is what a UI localises by, `text` what the person reads (in English, or your UI's default
 * language). Ids from `CUSTOM_MESSAGE_ID_BLOCK` (4190000–4199999) are yours; any other positive
 * integer is accepted too, except Kratos's blocks and the ids kratos-hooks keeps for its own.
 *
 * ```ts
 * import { defineMessage } from "kratos-hooks";
 * const INVITE_REQUIRED = defineMessage({ key: "INVITE_REQUIRED", id: 4190001, text: "Sign-up is by invitation only." });
 * ```
 *
 * @throws TypeError naming what is wrong with the key, the id or the text.
 */
export function defineMessage(message: CustomMessage): CustomMessage {
  const problem = customMessageProblem(message);
  if (problem !== null) throw new TypeError(`defineMessage: ${problem}`);
  return Object.freeze({ key: message.key, id: message.id, text: message.text });
}

function toDenial(pointer: string, message: MessageKey | CustomMessage, context: JsonObject): Denial {
  if (typeof message === "string") {
    if (!Object.hasOwn(MESSAGES, message))
      throw new TypeError(`unknown message ${JSON.stringify(message)}: use defineMessage for a message of your own`);
    return { key: message, pointer, context };
  }
  const problem = customMessageProblem(message);
  if (problem !== null) throw new TypeError(`message: ${problem}`);
  return { key: message.key, id: message.id, text: message.text, pointer, context };
}

/**
 * Lets the flow go on unchanged (Kratos gets a 204).
 *
 * ```ts
 * if (await isInvited(input.identity.traits.email)) return proceed();
 * ```
 */
export function proceed(): ContinueDecision {
  return CONTINUE as ContinueDecision;
}

/**
 * Refuses the flow with a message under one form field: `field` is a trait's path as in the
 * identity schema (`email`, `address.mobile`). `context` is passed to the UI with the message.
 *
 * ```ts
 * return denyField("email", INVITE_REQUIRED); // or a built-in message: denyField("phone", "PHONE_INVALID")
 * ```
 */
export function denyField(field: string, message: MessageKey | CustomMessage, context: JsonObject = {}): DenyDecision {
  return { kind: "deny", messages: [toDenial(traitPointer(field), message, context)] };
}

/**
 * Refuses the flow with a message for the whole form (shown above it).
 *
 * ```ts
 * return denyForm("REQUEST_DENIED");
 * ```
 */
export function denyForm(message: MessageKey | CustomMessage, context: JsonObject = {}): DenyDecision {
  return { kind: "deny", messages: [toDenial(GLOBAL_POINTER, message, context)] };
}

/**
 * Several messages at once: `denyAll(denyField(…), denyForm(…))` keeps every message, in order.
 *
 * ```ts
 * return denyAll(denyField("email", INVITE_REQUIRED), denyForm("REQUEST_DENIED"));
 * ```
 */
export function denyAll(...decisions: Decision[]): DenyDecision {
  const messages = decisions.flatMap((d) => (d.kind === "deny" ? d.messages : []));
  return { kind: "deny", messages };
}

/**
 * Changes the identity Kratos saves (registration-after, settings-after). Each field given
 * replaces the whole value: Kratos replaces `traits` and `metadata_public` wholesale. Prefer
 * `patchTraits` and `patchMetadataPublic`, which keep what you do not name.
 *
 * ```ts
 * return patch({ traits: { ...input.identity.traits, plan: "pro" } });
 * ```
 */
export function patch(identity: IdentityPatch): PatchDecision {
  return { kind: "patch", identity };
}

/** The input of a hook whose changes Kratos saves: what `patchTraits` and `patchMetadataPublic` take. */
export interface PatchableInput {
  hook: PatchableHookId;
  identity: IdentityView;
}

function identityOf(input: PatchableInput, helper: string): IdentityView {
  // Checked at run time too, for JavaScript callers: the types already refuse these.
  const hook = (input as { hook: HookId }).hook;
  if (!isHookId(hook) || !canPatch(hook)) throw new TypeError(`${helper}: Kratos does not save a change made on ${String(hook)}`);
  if (input.identity === undefined) throw new TypeError(`${helper}: ${hook} has no identity to change`);
  return input.identity;
}

/**
 * Sets some traits, keeping the others: `patchTraits(input, { phone: "+4917612345678" })`.
 * Only on registration-after and settings-after (a type error elsewhere).
 *
 * ```ts
 * return patchTraits(input, { phone: "+4917612345678" });
 * ```
 */
export function patchTraits(input: PatchableInput, traits: JsonObject): PatchDecision {
  return patch({ traits: { ...identityOf(input, "patchTraits").traits, ...traits } });
}

/**
 * Sets some keys of `metadata_public`, keeping the others: `patchMetadataPublic(input, { plan: "pro" })`.
 * Only on registration-after and settings-after (a type error elsewhere).
 *
 * ```ts
 * return patchMetadataPublic(input, { plan: "pro" });
 * ```
 */
export function patchMetadataPublic(input: PatchableInput, values: JsonObject): PatchDecision {
  return patch({ metadataPublic: { ...(identityOf(input, "patchMetadataPublic").metadataPublic ?? {}), ...values } });
}

/**
 * Moves a new identity to another identity schema (registration-after).
 *
 * ```ts
 * return patchSchemaId("customer");
 * ```
 */
export function patchSchemaId(schemaId: string): PatchDecision {
  return patch({ schemaId });
}

/**
 * Links the identity to its record in another system (`identity.external_id`, registration-after
 * and settings-after): a string of 1 to 64 characters sets it, `null` removes it. Kratos v25.4+
 * saves it and keeps it unique: a value another identity holds makes Kratos refuse the save (at
 * registration, as an account that already exists). Kratos v1.3.1 ignores it.
 *
 * ```ts
 * return patchExternalId("crm-4711");
 * ```
 */
export function patchExternalId(externalId: string | null): PatchDecision {
  return patch({ externalId });
}
