import { type DenialEffect, factsOf, type HOOKS, type HookId } from "../../core/hooks.js";
import { isJsonObject } from "../../core/json.js";
import { pointerKeys } from "../../core/json-pointer.js";
import { isKratosMessageId } from "../../core/message-ids.js";
import { fail, parseJSON, type ShownMessage, type Verdict, type VerdictContext } from "./model.js";

/** `jsonschemax.JSONPointerToDotNotation` (ory/x): `#/traits/email` → `traits.email`; `""`, `#/` → global. */
export function toNodeName(pointer: string): string | null {
  if (!pointer.startsWith("#/")) return pointer === "" ? null : pointer;
  const path = pointerKeys(pointer)
    .map((key) => {
      let decoded = key;
      try {
        decoded = decodeURIComponent(key);
      } catch {
        // Not an error dropped: a key that is not valid percent-encoding names itself, so it is kept as written.
      }
      return decoded.replaceAll(".", "\\.");
    })
    .join(".");
  return path === "" ? null : path;
}

const MAX_INT64 = 2 ** 63;

type Decoded = { ok: true; entries: number; messages: ShownMessage[]; notes: string[] } | { ok: false; why: string };

/** Decodes `{"messages":[…]}` as Go's encoding/json decodes `rawHookResponse`. */
function decodeMessages(value: unknown, formNodes: readonly string[] | undefined): Decoded {
  // Go decodes JSON null as the zero value: a null body, list or entry is empty, not an error.
  if (value === null) return { ok: true, entries: 0, messages: [], notes: [] };
  if (!isJsonObject(value)) return { ok: false, why: `the body is JSON ${Array.isArray(value) ? "array" : typeof value}, not an object` };
  const entries = value.messages ?? null;
  if (entries === null) return { ok: true, entries: 0, messages: [], notes: [] };
  if (!Array.isArray(entries)) return { ok: false, why: '"messages" is not an array' };
  const messages: ShownMessage[] = [];
  const notes: string[] = [];
  for (const [i, raw] of entries.entries()) {
    const entry = raw ?? {};
    if (!isJsonObject(entry)) return { ok: false, why: `messages[${i}] is not an object` };
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
      if (!isJsonObject(detail)) return { ok: false, why: `${where} is not an object` };
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
      if (isKratosMessageId(id))
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

/** The hooks whose refusal keeps Kratos from creating the flow, by the table's `denial`. */
type FlowCreatingHookId = { [K in HookId]: (typeof HOOKS)[K]["denial"] extends "flow-not-created" ? K : never }[HookId];

/**
 * What an API client gets when a before-hook refuses, measured on Kratos v1.3.1. It stays here
 * rather than in HOOKS: only this explanation reads it, and it is a measurement of one Kratos
 * version, not a fact other code branches on. The key type makes a new before-hook in HOOKS add
 * its row here.
 */
const API_REFUSAL: Record<FlowCreatingHookId, string> = {
  "registration-before": "HTTP 500",
  "login-before": "HTTP 404 and the flow",
};

/** What the person is left without when an after-hook refuses, by the table's `denial`. */
const AFTER_DENIAL: Record<Exclude<DenialEffect, "flow-not-created">, string> = {
  "identity-not-created": "no identity is created",
  "no-session": "no session is issued",
  "identity-not-updated": "the identity is not updated",
};

/** The verdict for a 4xx (or 501) answer: Kratos reads it as `{"messages":[…]}`. */
export function toDenialVerdict(hook: HookId, status: number, body: string, context: VerdictContext): Verdict {
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
  const { denial, flow } = factsOf(hook);
  if (denial === "flow-not-created") {
    // The table says so: `hook` is a FlowCreatingHookId.
    const api = API_REFUSAL[hook as FlowCreatingHookId];
    return {
      kind: "stop",
      headline: `Kratos refuses to create the ${flow} flow; your text is not shown: an API client gets an error (${api} on Kratos v1.3.1), a browser is sent to the error page`,
      reason: "a before-hook runs before the flow exists, so there is no form to attach messages to",
      messages: decoded.messages,
      notes: decoded.notes,
    };
  }
  const shown = decoded.messages.map(
    (m) => `${JSON.stringify(m.text)} ${m.node === null ? "as a global message" : `under ${m.node}`} (id ${m.id})`,
  );
  return {
    kind: "stop",
    headline: `Kratos stops the flow and shows: ${shown.length === 0 ? "nothing (every entry is empty)" : shown.join("; ")}; ${AFTER_DENIAL[denial]}`,
    reason: `a ${status} with {"messages":[…]} is a validation error: Kratos attaches each message to the form node its instance_ptr names and shows the form again`,
    messages: decoded.messages,
    notes: decoded.notes,
  };
}
