import type { HookId } from "./hooks.js";
import type { MessageKey } from "./messages.js";

/** A JSON object as Kratos sends it (traits, metadata, a message's context). */
export type JsonObject = Record<string, unknown>;

/** The part of a Kratos identity that policies read and may change. */
export interface IdentityView {
  schemaId: string;
  traits: JsonObject;
  metadataPublic: JsonObject | null;
}

/** What every policy sees: the validated payload, reduced to what our rules may read. */
export interface HookInput {
  hook: HookId;
  /** `ctx.flow.transient_payload`, when the client sent one. */
  transientPayload: JsonObject | undefined;
  /** `ctx.flow.identity_schema` (Kratos v25.4+): the schema the client asked for. */
  requestedSchemaId: string | undefined;
  /** `ctx.request_headers`, names lower-cased. Only Kratos's allowlisted headers arrive. */
  headers: ReadonlyMap<string, readonly string[]>;
  /** The identity in after-hooks; absent in before-hooks. */
  identity: IdentityView | undefined;
}

/** One of kratos-hooks's own messages (`MESSAGES` in messages.ts), by its key. */
export interface BuiltInDenial {
  key: MessageKey;
  pointer: string;
  context: JsonObject;
  id?: undefined;
  text?: undefined;
}

/**
 * A message of your own (`defineMessage`): `key` names it in logs and metrics
 * (`INVITE_REQUIRED`), `id` is what a UI localises by, `text` what the person reads.
 */
export interface CustomMessage {
  key: string;
  id: number;
  text: string;
}

/** A message of your own on a field or the whole form. */
export interface CustomDenial extends CustomMessage {
  pointer: string;
  context: JsonObject;
}

/**
 * A message for the person, attached to a form field (`#/traits/phone`) or to the whole form
 * (`#/`): one of ours by key, or one of your own with its id and text.
 */
export type Denial = BuiltInDenial | CustomDenial;

/**
 * What a policy decides. Expected outcomes are values: an invalid phone number is a `deny`.
 * A `patch` carries whole replacement values (never partial traits).
 */
export type Decision =
  | { kind: "continue" }
  | { kind: "patch"; identity: Partial<IdentityView> }
  | { kind: "deny"; messages: readonly Denial[] };

export const CONTINUE: Decision = { kind: "continue" };

export const GLOBAL_POINTER = "#/";

/** `phone` → `#/traits/phone`; `address.mobile` → `#/traits/address/mobile` (RFC 6901 escaped). */
export function traitPointer(path: string): string {
  const tokens = path.split(".").map((t) => t.replaceAll("~", "~0").replaceAll("/", "~1"));
  return `#/traits/${tokens.join("/")}`;
}

export function deny(key: MessageKey, pointer: string, context: JsonObject): Decision {
  return { kind: "deny", messages: [{ key, pointer, context }] };
}
