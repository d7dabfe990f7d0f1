import type { Context } from "hono";
import { STATUS } from "../../core/http-status.js";
import { SHIELD_FORM_FLOWS } from "../../core/shield-flows.js";
import type { SelfServiceFlow } from "../../kratos/self-service.js";
import type { GatewayTransport } from "../transport.js";
import { flowWithMessage, type UiMessage } from "./answer.js";
import { first, pairsOf, partsOf, replace, utf8 } from "./response-parts.js";
import type { ShieldStore } from "./store.js";

// A refused form post is sent back to its flow's UI (303), which then fetches the flow through the
// gateway: the shield keeps its message as a note under the flow's id meanwhile and adds it to
// the flow as the UI fetches it.

/** The shield's form flows are Kratos's self-service flows (a compile-time check). */
const FORM_FLOWS: readonly SelfServiceFlow[] = SHIELD_FORM_FLOWS;

/** A flow fetched by its UI (`GET /self-service/<flow>/flows?id=`): where a refused form post's message is shown. */
export const FLOWS_FETCH = new RegExp(`^/self-service/(${FORM_FLOWS.join("|")})/flows$`);

/** The note's key for a flow id. A flow id is Kratos's UUID; anything else (the client's say-so) names no note. */
export function noteKey(flowId: string): string | undefined {
  return /^[0-9a-zA-Z-]{1,64}$/.test(flowId) ? `kh:n:${flowId}` : undefined;
}

/** Keeps the message for the UI's fetch of the flow: as long as the refusal lasts, a minute to an hour. */
export async function keepNote(store: ShieldStore, flowId: string | undefined, message: UiMessage, now: number): Promise<void> {
  const key = flowId === undefined ? undefined : noteKey(flowId);
  if (key === undefined) return;
  const ttl = Math.min(Math.max((message.context.retry_after_seconds ?? 60) * 1000, 60_000), 3_600_000);
  try {
    await store.put(key, JSON.stringify(message), ttl, now);
  } catch {
    // The 303 still shows the form again; the message is lost with the store.
  }
}

/** After Kratos answered a flow fetch (`FLOWS_FETCH`) with the flow: the flow with the note's message, if there is a note. */
export async function showNote(c: Context, store: ShieldStore, transport: GatewayTransport): Promise<void> {
  const match = c.req.method === "GET" ? FLOWS_FETCH.exec(c.req.path) : null;
  const id = match === null ? undefined : (c.req.query("id") ?? undefined);
  if (id === undefined || c.res.status !== STATUS.ok) return;
  const key = noteKey(id);
  if (key === undefined) return;
  let note: string | undefined;
  try {
    note = await store.get(key, Date.now());
  } catch {
    return;
  }
  if (note === undefined) return;
  const parts = await partsOf(transport, c.res);
  const type = first(parts.headers["content-type"]) ?? "";
  if (parts.body === null || !type.toLowerCase().includes("json")) return;
  let flow: unknown;
  try {
    flow = JSON.parse(utf8.decode(parts.body));
  } catch {
    return;
  }
  const shown = flowWithMessage(flow, JSON.parse(note) as UiMessage);
  if (shown === undefined) return;
  replace(c, new Response(JSON.stringify(shown), { status: STATUS.ok, headers: pairsOf(parts.headers, { "content-length": undefined }) }));
}
