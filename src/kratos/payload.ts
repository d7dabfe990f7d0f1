import * as z from "zod";
import type { HookInput, SessionView } from "../core/decision.js";
import { type HookId, isBeforeHook } from "../core/hooks.js";
import { valueAtPath, withoutZodPrefix } from "../validation/zod-issues.js";

// The Kratos template context `ctx` (`selfservice/hook/web_hook.go` `templateContext`), reduced
// to what we read. z.object drops every other key, so `request_cookies` is never read or kept.
const object = z.record(z.string(), z.unknown());

const flow = z.object({
  transient_payload: object.nullable().optional(),
  identity_schema: z.string().nullable().optional(),
});

// `session/session.go`: Go's time.Time marshals as RFC 3339 (nanoseconds, any offset), an
// unset `authentication_methods` slice as null. Only what `SessionView` keeps is read: never
// `tokenized` (a token), `devices` (IP addresses) or the nested identity.
const instant = z.iso.datetime({ offset: true }).transform((value) => new Date(value));
const aal = z.enum(["aal0", "aal1", "aal2", "aal3"]);

const session = z.object({
  id: z.string().min(1).max(64),
  authenticator_assurance_level: aal,
  authenticated_at: instant,
  authentication_methods: z
    // A session from Kratos v0.6 was migrated to `[{"method":"v0.6_legacy_session"}]`: no aal.
    .array(z.object({ method: z.string().min(1).max(64), aal: aal.or(z.literal("")).optional(), completed_at: instant }))
    .nullable()
    .optional(),
});

const base = z.object({
  flow,
  // Kratos sends name → [values]; a hand-written template may send a plain string.
  request_headers: z.record(z.string(), z.union([z.array(z.string()), z.string()])).optional(),
  // Kratos v26.2+ on settings (v25.4+ post-persist only, which we are not); login-after since v1.2.
  session: session.optional(),
});

// Pre-persist registration: Kratos has not assigned an id yet and sends the nil UUID (contract §7, 14).
const NIL_UUID = "00000000-0000-0000-0000-000000000000";

const identity = z.object({
  // login-after and settings-after (the shipped templates send it).
  id: z.string().min(1).max(64).optional(),
  schema_id: z.string().min(1),
  traits: object,
  metadata_public: object.nullable().optional(),
  // Kratos v25.4+ (`identity/identity.go`, omitempty).
  external_id: z.string().nullable().optional(),
});

const withIdentity = base.extend({ identity });

export type PayloadProblem = { message: string; path: string };

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/**
 * Validates a hook body and reduces it to the policies' input. Problems name the first
 * offending path and the type found, never the value (it may be a phone number or an email).
 */
export function parseHookPayload(hook: HookId, body: unknown): { ok: true; input: HookInput } | { ok: false; problem: PayloadProblem } {
  const result = (isBeforeHook(hook) ? base : withIdentity).safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.map(String).join(".") ?? "";
    const found = valueAtPath(body, issue?.path ?? []);
    const expected =
      issue?.code === "invalid_type"
        ? `expected ${issue.expected === "record" ? "object" : issue.expected}`
        : withoutZodPrefix(issue?.message ?? "invalid");
    const what = found === undefined ? "it is missing" : `found ${describeType(found)}`;
    return { ok: false, problem: { path, message: `${path === "" ? "body" : path}: ${expected}, ${what}` } };
  }
  const data = result.data;
  const headers = new Map<string, string[]>();
  for (const [name, values] of Object.entries(data.request_headers ?? {})) {
    headers.set(name.toLowerCase(), typeof values === "string" ? [values] : values);
  }
  const id = "identity" in data ? (data.identity as z.infer<typeof identity>) : undefined;
  return {
    ok: true,
    input: {
      hook,
      transientPayload: data.flow.transient_payload ?? undefined,
      requestedSchemaId: data.flow.identity_schema ?? undefined,
      headers,
      identity: id && {
        ...(id.id !== undefined && id.id !== NIL_UUID && { id: id.id }),
        schemaId: id.schema_id,
        traits: id.traits,
        metadataPublic: id.metadata_public ?? null,
        // Kratos stores "" as no external id (`sqlxx.NullString`).
        externalId: id.external_id || null,
      },
      session: data.session && toSessionView(data.session),
    },
  };
}

function toSessionView(s: z.infer<typeof session>): SessionView {
  return {
    id: s.id,
    authenticatorAssuranceLevel: s.authenticator_assurance_level,
    authenticatedAt: s.authenticated_at,
    authenticationMethods: (s.authentication_methods ?? []).map((m) => ({
      method: m.method,
      aal: m.aal || undefined,
      completedAt: m.completed_at,
    })),
  };
}
