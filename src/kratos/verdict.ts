import type { JsonObject } from "../core/decision.js";
import { canPatchIdentity, type HookId, isBeforeHook } from "../core/hooks.js";
import type { IdentitySchemaSet } from "../core/identity-schemas.js";
import { isPlainObject, jsonEqual } from "../core/json.js";

/**
 * What Kratos does with a hook's answer, read the way Kratos v1.3.1 reads it for a `web_hook`
 * with `response.parse: true` (`selfservice/hook/web_hook.go` `execute`, `parseWebhookResponse`;
 * contract §2.2–2.4 and §3). Pure: the CLI's `try` and the tests share it.
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

const RETRIED =
  "Kratos retries 429 and 5xx answers (except 501) 3 times, 1 s and 2 s apart, never reads their body, and then fails the flow with a generic error";

function fail(headline: string, reason: string, notes: string[] = []): Verdict {
  return { kind: "fail", headline: `Kratos fails the flow with a generic error because ${headline}`, reason, notes };
}

function parseJSON(body: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch {
    return { ok: false };
  }
}

/** `jsonschemax.JSONPointerToDotNotation` (ory/x): `#/traits/email` → `traits.email`; `""`, `#/` → global. */
export function toNodeName(pointer: string): string | null {
  if (!pointer.startsWith("#/")) return pointer === "" ? null : pointer;
  const path = pointer
    .slice(2)
    .split("/")
    .map((item) => {
      const unescaped = item.replaceAll("~1", "/").replaceAll("~0", "~");
      let decoded = unescaped;
      try {
        decoded = decodeURIComponent(unescaped);
      } catch {}
      return decoded.replaceAll(".", "\\.");
    })
    .join(".");
  return path === "" ? null : path;
}

// The id blocks Kratos allocates (text/id.go@v1.3.1: 1010000…1080000, 4000000…4070000 and
// 5000000, 10000 ids each): a UI that localises by id would replace our text there.
function inKratosRange(id: number): boolean {
  return (id >= 1_010_000 && id <= 1_089_999) || (id >= 4_000_000 && id <= 4_079_999) || (id >= 5_000_000 && id <= 5_009_999);
}

const MAX_INT64 = 2 ** 63;

type Decoded = { ok: true; entries: number; messages: ShownMessage[]; notes: string[] } | { ok: false; why: string };

/** Decodes `{"messages":[…]}` as Go's encoding/json decodes `rawHookResponse`. */
function decodeMessages(value: unknown, formNodes: readonly string[] | undefined): Decoded {
  // Go decodes JSON null as the zero value: a null body, list or entry is empty, not an error.
  if (value === null) return { ok: true, entries: 0, messages: [], notes: [] };
  if (!isPlainObject(value)) return { ok: false, why: `the body is JSON ${Array.isArray(value) ? "array" : typeof value}, not an object` };
  const entries = value.messages ?? null;
  if (entries === null) return { ok: true, entries: 0, messages: [], notes: [] };
  if (!Array.isArray(entries)) return { ok: false, why: '"messages" is not an array' };
  const messages: ShownMessage[] = [];
  const notes: string[] = [];
  for (const [i, raw] of entries.entries()) {
    const entry = raw ?? {};
    if (!isPlainObject(entry)) return { ok: false, why: `messages[${i}] is not an object` };
    const pointer = entry.instance_ptr ?? "";
    if (typeof pointer !== "string") return { ok: false, why: `messages[${i}].instance_ptr is not a string` };
    const details = entry.messages ?? [];
    if (!Array.isArray(details)) return { ok: false, why: `messages[${i}].messages is not an array` };
    const node = toNodeName(pointer);
    if (pointer !== "" && !pointer.startsWith("#/")) {
      notes.push(
        `instance_ptr ${JSON.stringify(pointer)} does not start with "#/": Kratos adds a new text input named ${JSON.stringify(pointer)} to the form`,
      );
    } else if (node !== null && formNodes !== undefined && !formNodes.includes(node)) {
      notes.push(`the form has no field named ${node}: Kratos adds a new text input with that name to show the message`);
    }
    if (details.length === 0) notes.push(`messages[${i}] (${node ?? "global"}) holds no message: nothing is shown for it`);
    for (const [j, raw] of details.entries()) {
      const detail = raw ?? {};
      const where = `messages[${i}].messages[${j}]`;
      if (!isPlainObject(detail)) return { ok: false, why: `${where} is not an object` };
      const id = detail.id ?? 0;
      if (typeof id !== "number" || !Number.isInteger(id) || Math.abs(id) >= MAX_INT64) {
        return { ok: false, why: `${where}.id is ${JSON.stringify(detail.id)}, not an integer` };
      }
      if (detail.text !== undefined && detail.text !== null && typeof detail.text !== "string") {
        return { ok: false, why: `${where}.text is not a string` };
      }
      if (detail.type !== undefined && detail.type !== null && typeof detail.type !== "string") {
        return { ok: false, why: `${where}.type is not a string` };
      }
      const type = detail.type === "error" ? "error" : "info";
      if (type === "info")
        notes.push(`${where}.type is ${JSON.stringify(detail.type ?? null)}: Kratos shows it as "info", not as an error`);
      if (inKratosRange(id))
        notes.push(
          `${where}.id ${id} is in a range Kratos uses for its own messages: a UI that translates by id shows Kratos's text instead`,
        );
      const message: ShownMessage = { node, id, text: typeof detail.text === "string" ? detail.text : "", type };
      if (detail.context !== undefined && detail.context !== null) message.context = detail.context;
      messages.push(message);
    }
  }
  return { ok: true, entries: entries.length, messages, notes };
}

function denial(hook: HookId, status: number, body: string, context: VerdictContext): Verdict {
  const parsed = parseJSON(body);
  if (!parsed.ok) {
    return fail(
      `the ${status} body is not JSON`,
      `with response.parse, Kratos decodes a 4xx body as {"messages":[…]}; "webhook response could not be unmarshalled properly from JSON" ends the flow with a 500`,
    );
  }
  const decoded = decodeMessages(parsed.value, context.formNodes);
  if (!decoded.ok) {
    return fail(
      `Kratos cannot decode the messages: ${decoded.why}`,
      "a message body that does not fit Kratos's Go types ends the flow with a 500",
    );
  }
  if (decoded.entries === 0) {
    return fail(
      `the ${status} answer holds no messages`,
      'Kratos needs at least one entry in "messages"; without one it logs "got no validation errors" and ends the flow with a 500',
    );
  }
  if (isBeforeHook(hook)) {
    const what =
      hook === "registration-before"
        ? "an API client gets an error (HTTP 500 on Kratos v1.3.1), a browser is sent to the error page"
        : "an API client gets an error (HTTP 404 and the flow on Kratos v1.3.1), a browser is sent to the error page";
    return {
      kind: "stop",
      headline: `Kratos refuses to create the ${hook.replace("-before", "")} flow; your text is not shown: ${what}`,
      reason: "a before-hook runs before the flow exists, so there is no form to attach messages to",
      messages: decoded.messages,
      notes: decoded.notes,
    };
  }
  const shown = decoded.messages.map(
    (m) => `${JSON.stringify(m.text)} ${m.node === null ? "as a global message" : `under ${m.node}`} (id ${m.id})`,
  );
  const after =
    hook === "login-after"
      ? "no session is issued"
      : hook === "registration-after"
        ? "no identity is created"
        : "the identity is not updated";
  return {
    kind: "stop",
    headline: `Kratos stops the flow and shows: ${shown.length === 0 ? "nothing (every entry is empty)" : shown.join("; ")}; ${after}`,
    reason: `a ${status} with {"messages":[…]} is a validation error: Kratos attaches each message to the form node its instance_ptr names and shows the form again`,
    messages: decoded.messages,
    notes: decoded.notes,
  };
}

/** Every leaf that differs between two JSON values, by dotted path. */
function diff(path: string, before: unknown, after: unknown, out: Change[]): void {
  if (jsonEqual(before, after)) return;
  if (isPlainObject(before) && isPlainObject(after)) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) diff(`${path}.${key}`, before[key], after[key], out);
    return;
  }
  out.push({ path, before, after });
}

function identityChange(hook: HookId, value: JsonObject, context: VerdictContext): Verdict {
  const current = isPlainObject(context.identity) ? context.identity : {};
  const notes: string[] = [];
  // Which fields Kratos applies (parseWebhookResponse): raw length > 0 or non-empty.
  const applied = {
    traits: value.traits !== undefined,
    schema_id: typeof value.schema_id === "string" && value.schema_id !== "",
    state: typeof value.state === "string" && value.state !== "",
    metadata_public: value.metadata_public !== undefined,
    metadata_admin: value.metadata_admin !== undefined,
    verifiable_addresses: Array.isArray(value.verifiable_addresses) && value.verifiable_addresses.length > 0,
    recovery_addresses: Array.isArray(value.recovery_addresses) && value.recovery_addresses.length > 0,
  };
  for (const key of ["schema_id", "state"] as const) {
    if (value[key] !== undefined && value[key] !== null && typeof value[key] !== "string") {
      return fail(`identity.${key} is not a string`, "Kratos cannot decode the identity and ends the flow with a 500");
    }
  }
  for (const key of ["verifiable_addresses", "recovery_addresses"] as const) {
    if (value[key] !== undefined && value[key] !== null && !Array.isArray(value[key])) {
      return fail(`identity.${key} is not an array`, "Kratos cannot decode the identity and ends the flow with a 500");
    }
  }
  if ("external_id" in value) notes.push("identity.external_id is ignored by Kratos v1.3.1 (applied from v25.4)");
  const ignored = ["id", "credentials", "created_at", "updated_at", "organization_id", "schema_url", "state_changed_at"].filter(
    (k) => k in value,
  );
  if (ignored.length > 0) notes.push(`Kratos never applies ${ignored.map((k) => `identity.${k}`).join(", ")}`);
  const appliedKeys = Object.entries(applied)
    .filter(([, on]) => on)
    .map(([key]) => key);

  if (isBeforeHook(hook)) {
    if (appliedKeys.length === 0) {
      return { kind: "continue", headline: "Kratos continues unchanged", reason: "the identity object sets nothing Kratos applies", notes };
    }
    return fail(
      `a before-hook answered with identity fields (${appliedKeys.join(", ")})`,
      "before-hooks have no identity: Kratos dereferences a nil identity and the request panics (500)",
      notes,
    );
  }
  if (applied.traits && !isPlainObject(value.traits)) {
    return fail(
      `identity.traits is ${value.traits === null ? "null" : `a JSON ${Array.isArray(value.traits) ? "array" : typeof value.traits}`}`,
      "Kratos replaces the traits with it and the identity then fails validation",
      notes,
    );
  }
  const next = {
    schema_id: applied.schema_id ? (value.schema_id as string) : current.schema_id,
    traits: applied.traits ? value.traits : current.traits,
    metadata_public: applied.metadata_public ? value.metadata_public : (current.metadata_public ?? null),
  };
  const changes: Change[] = [];
  diff("schema_id", current.schema_id, next.schema_id, changes);
  diff("traits", current.traits, next.traits, changes);
  diff("metadata_public", current.metadata_public ?? null, next.metadata_public, changes);
  if (applied.state) diff("state", current.state, value.state, changes);
  if (applied.state && value.state !== "active" && hook === "registration-after") {
    notes.push(
      `state ${JSON.stringify(value.state)}: Kratos creates the identity, then refuses its session ("This account was disabled.", 400)`,
    );
  }
  if (applied.metadata_admin) changes.push({ path: "metadata_admin", before: undefined, after: value.metadata_admin });
  if (applied.verifiable_addresses || applied.recovery_addresses) {
    notes.push(
      "Kratos re-derives verifiable and recovery addresses from the traits: supplied addresses only survive where a trait yields the same value",
    );
  }

  if (!canPatchIdentity(hook)) {
    return {
      kind: "continue",
      headline: "Kratos continues; the identity changes are not saved",
      reason: "Kratos keeps a login-after identity change in memory for this response only and never writes it",
      changes,
      notes,
    };
  }
  if (changes.length === 0) {
    return {
      kind: "continue",
      headline: "Kratos continues unchanged",
      reason: "the identity in the answer equals the one Kratos holds",
      notes,
    };
  }
  const schemaId = typeof next.schema_id === "string" ? next.schema_id : "";
  if (context.schemaIds !== undefined && !context.schemaIds.includes(schemaId)) {
    return fail(
      `schema_id "${schemaId}" is not in kratos.yml identity.schemas (${context.schemaIds.join(", ")})`,
      `Kratos re-validates the identity against its schema and answers "Unable to find JSON Schema ID: ${schemaId}" as a global message`,
      notes,
    );
  }
  if (context.schemas !== undefined && isPlainObject(next.traits)) {
    let problems: ReturnType<IdentitySchemaSet["validate"]> = [];
    try {
      problems = context.schemas.validate(schemaId, next.traits);
    } catch {
      notes.push(`schema "${schemaId}" was not available here: the changed identity was not re-validated`);
    }
    if (problems.length > 0) {
      return fail(
        `the changed identity is not valid for schema "${schemaId}" (${problems.map((p) => `${p.pointer}: ${p.detail}`).join("; ")})`,
        "Kratos re-validates the identity against the (new) schema after the hook and refuses it with its own validation error",
        notes,
      );
    }
  }
  const what = hook === "registration-after" ? "saves the new identity" : "saves the identity";
  return {
    kind: "save",
    headline: `Kratos ${what} with these changes`,
    reason:
      'a 200 {"identity":{…}} replaces each field it sends (traits and metadata whole) before Kratos validates and stores the identity',
    changes,
    identity: { ...next, schema_id: schemaId },
    notes,
  };
}

/** What Kratos does with one hook outcome, for a `web_hook` with `response.parse: true`. */
export function toVerdict(hook: HookId, outcome: HookOutcome, context: VerdictContext = {}): Verdict {
  switch (outcome.kind) {
    case "cancelled":
      return {
        kind: "continue",
        headline: "Kratos continues unchanged (the template cancelled, so no request is sent)",
        reason: 'a Jsonnet error containing "cancel" makes Kratos skip the hook (request/builder.go ErrCancel)',
        notes: [],
      };
    case "template-error":
      return fail(`the Jsonnet template failed: ${outcome.message}`, "Kratos cannot build the request body and ends the flow with a 500");
    case "unreachable":
      return fail(
        `the hook is unreachable (${outcome.message})`,
        `${RETRIED}: "giving up after 3 attempt(s)" (a native flow gets HTTP 400 with error.code 500 on v1.3.1)`,
      );
    case "timeout":
      return fail("the hook did not answer within 30 s", `Kratos gives up on each attempt after 30 s and retries; then it answers 504`);
    case "answered":
      break;
  }
  const { status, body } = outcome;
  if (status === 429 || (status >= 500 && status !== 501)) {
    const parsed = parseJSON(body);
    const notes =
      parsed.ok && isPlainObject(parsed.value) && Array.isArray(parsed.value.messages)
        ? [`the messages in this ${status} body are never shown: send them with a 4xx such as 422`]
        : [];
    return fail(`the hook answered ${status}`, RETRIED, notes);
  }
  if (status >= 400) return denial(hook, status, body, context);
  if (status === 204) return { kind: "continue", headline: "Kratos continues unchanged", reason: "204 means no change", notes: [] };
  if (status !== 200) {
    const notes =
      status >= 300 && status < 400 && outcome.location !== undefined
        ? [`Kratos's HTTP client follows this redirect to ${outcome.location} and acts on that answer instead`]
        : [];
    return {
      kind: "continue",
      headline: "Kratos continues unchanged",
      reason: `Kratos parses only 200 and 4xx/5xx bodies; a ${status} changes nothing`,
      notes,
    };
  }
  if (body.trim() === "") {
    return fail(
      "the hook answered 200 with an empty body",
      'with response.parse, a 200 body must be JSON: "webhook response could not be unmarshalled properly from JSON" (500). Answer 204 for no change',
    );
  }
  const parsed = parseJSON(body);
  if (!parsed.ok) {
    return fail(
      "the 200 body is not JSON",
      'with response.parse, a 200 body must be JSON: "webhook response could not be unmarshalled properly from JSON" (500)',
    );
  }
  if (parsed.value !== null && !isPlainObject(parsed.value)) {
    return fail(
      `the 200 body is a JSON ${Array.isArray(parsed.value) ? "array" : typeof parsed.value}`,
      "Kratos decodes a 200 body into an object and fails on anything else (500)",
    );
  }
  const identity = parsed.value === null ? null : (parsed.value.identity ?? null);
  if (identity === null) {
    return { kind: "continue", headline: "Kratos continues unchanged", reason: 'a 200 without "identity" changes nothing', notes: [] };
  }
  if (!isPlainObject(identity)) {
    return fail('"identity" in the 200 body is not an object', "Kratos cannot decode the identity and ends the flow with a 500");
  }
  return identityChange(hook, identity, context);
}

/** Exit status of `try`: 0 when Kratos goes on, 1 when it stops or fails. */
export function exitCodeOf(verdict: Verdict): 0 | 1 {
  return verdict.kind === "continue" || verdict.kind === "save" ? 0 : 1;
}
