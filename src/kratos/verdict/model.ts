import type { IdentitySchemaSet } from "../../core/identity-schemas.js";

/**
 * What Kratos does with a hook's answer, read the way Kratos v1.3.1 reads it for a `web_hook`
 * with `response.parse: true` (`selfservice/hook/web_hook.go` `execute`, `parseWebhookResponse`;
 * contract §2.2–2.4 and §3).
 */
export type VerdictKind = "continue" | "save" | "stop" | "fail";

/** A message as the form shows it: under the node named `node`, or global when `node` is null. */
export interface ShownMessage {
  node: string | null;
  id: number;
  text: string;
  type: "error" | "info";
  context?: unknown;
}

/** One changed value, by dotted path (`traits.phone`, `schema_id`, `metadata_public.plan`). */
export interface Change {
  path: string;
  before: unknown;
  after: unknown;
}

export interface Verdict {
  kind: VerdictKind;
  /** One sentence a person reads at a glance. */
  headline: string;
  /** The Kratos rule behind the headline. */
  reason: string;
  changes?: Change[];
  /** The identity fields Kratos stores (save). */
  identity?: { schema_id: string; traits: unknown; metadata_public: unknown };
  messages?: ShownMessage[];
  /** Things that work but surprise: junk form nodes, ids in Kratos's ranges, fields Kratos ignores. */
  notes: string[];
}

/** How the call ended, before any interpretation. */
export type HookOutcome =
  | { kind: "cancelled" }
  | { kind: "template-error"; message: string }
  | { kind: "unreachable"; message: string }
  | { kind: "timeout" }
  | { kind: "answered"; status: number; body: string; location?: string | undefined };

export interface VerdictContext {
  /** `ctx.identity`, as Kratos holds it before the answer. Absent for before-hooks. */
  identity?: unknown;
  /** `ctx.flow.ui.nodes[].attributes.name`: the form the messages attach to. */
  formNodes?: readonly string[] | undefined;
  /** The schema ids in kratos.yml `identity.schemas`, when known. */
  schemaIds?: readonly string[] | undefined;
  /** The identity schemas, to re-validate a changed identity as Kratos does. */
  schemas?: IdentitySchemaSet | undefined;
}

/** The verdict for an answer Kratos cannot use: the flow ends with a generic error. */
export function fail(headline: string, reason: string, notes: string[] = []): Verdict {
  return { kind: "fail", headline: `Kratos fails the flow with a generic error because ${headline}`, reason, notes };
}

export function parseJSON(body: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch {
    return { ok: false };
  }
}
