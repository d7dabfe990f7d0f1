import type { HookId } from "./hooks.js";
import type { MessageKey } from "./messages.js";

/** A JSON object as Kratos sends it (traits, metadata, a message's context). */
export type JsonObject = Record<string, unknown>;

/** What a patch may change: every field of the identity view but its id. */
export type IdentityPatch = Partial<Omit<IdentityView, "id">>;

/** The part of a Kratos identity that policies read and may change. */
export interface IdentityView {
  /**
   * The identity's id (`identity.id`), read-only: on login-after and settings-after, where the
   * shipped templates send it. Undefined on registration-after: the identity is not stored yet
   * (Kratos sends the nil UUID, which is dropped). A patch cannot change it.
   */
  readonly id?: string | undefined;
  schemaId: string;
  traits: JsonObject;
  metadataPublic: JsonObject | null;
  /**
   * `identity.external_id` (Kratos v25.4+): the identity's id in another system, unique across
   * identities, at most 64 characters. Null (or absent) when it has none, or when the body does
   * not carry it: the shipped settings-after template forwards it, a new registration has none.
   * In a patch, a string sets it and `null` removes it; Kratos v1.3.1 ignores both.
   */
  externalId?: string | null;
}

/** How strongly the session's holder proved who they are (`identity/credentials.go`): `aal2` is two factors. */
export type AuthenticatorAssuranceLevel = "aal0" | "aal1" | "aal2" | "aal3";

/** One way the session's holder authenticated, as Kratos lists it (`session/session.go` `AuthenticationMethod`). */
export interface AuthenticationMethodView {
  /** `password`, `code`, `oidc`, `totp`, `webauthn`, `passkey`, `lookup_secret`, … */
  method: string;
  /** Undefined for a session Kratos migrated from v0.6 (`v0.6_legacy_session`), which has none. */
  aal: AuthenticatorAssuranceLevel | undefined;
  completedAt: Date;
}

/**
 * The session that makes the change (`ctx.session`: settings-after from Kratos v26.2; never on
 * v1.3.1): how and when its holder authenticated, for rules such as "a new phone number needs a
 * second factor" or "a recent sign-in". Never its token, devices or cookies.
 */
export interface SessionView {
  /** `session.id`. */
  id: string;
  authenticatorAssuranceLevel: AuthenticatorAssuranceLevel;
  /** When its holder last authenticated (`authenticated_at`). */
  authenticatedAt: Date;
  /** Each factor, in the order it was completed (`authentication_methods`). */
  authenticationMethods: readonly AuthenticationMethodView[];
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
  /** `ctx.session`, when the body carries it (settings-after from Kratos v26.2); undefined otherwise. */
  session?: SessionView | undefined;
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
export type Decision = { kind: "continue" } | { kind: "patch"; identity: IdentityPatch } | { kind: "deny"; messages: readonly Denial[] };

export const CONTINUE: Decision = { kind: "continue" };

export { GLOBAL_POINTER, traitPointer } from "./json-pointer.js";

export function builtInDenial(key: MessageKey, pointer: string, context: JsonObject): Decision {
  return { kind: "deny", messages: [{ key, pointer, context }] };
}
