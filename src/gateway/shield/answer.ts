import { STATUS } from "../../core/http-status.js";
import { isJsonObject } from "../../core/json.js";
import { MESSAGES } from "../../core/messages.js";
import { kratosErrorResponse } from "../kratos-error.js";
import type { Attempt } from "./attempt.js";
import type { ShieldReason, ShieldRefusal } from "./check.js";

/** A message in Kratos's UI shape (`ui.messages[]`), as Kratos's UIs render any message. */
export interface UiMessage {
  id: number;
  type: "error";
  text: string;
  context: { reason: ShieldReason; retry_after_seconds?: number; retry_at?: string };
}

const MESSAGE_OF: Record<ShieldReason, keyof typeof MESSAGES> = {
  login_delayed: "SHIELD_LOGIN_DELAYED",
  login_locked: "SHIELD_LOGIN_LOCKED",
  identifier_locked: "SHIELD_LOGIN_LOCKED",
  client_locked: "SHIELD_CLIENT_LOCKED",
  sms_number_type: "SHIELD_SMS_NUMBER_TYPE",
  sms_country: "SHIELD_SMS_COUNTRY",
  sms_client_budget: "SHIELD_SMS_BUDGET",
  sms_number_budget: "SHIELD_SMS_BUDGET",
  sms_prefix_budget: "SHIELD_SMS_BUDGET",
  sms_country_budget: "SHIELD_SMS_BUDGET",
  sms_global_budget: "SHIELD_SMS_BUDGET",
  store_unavailable: "SHIELD_UNAVAILABLE",
};

/** "in 40 seconds", "in 3 minutes", "in 2 hours": rounded up, so a person never retries too early. */
export function humanWait(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 90) return `${minutes} minutes`;
  return `${Math.ceil(minutes / 60)} hours`;
}

/** The message a person sees: why, and when to try again. */
export function shieldMessage(refusal: ShieldRefusal, now: number): UiMessage {
  const { id, text } = MESSAGES[MESSAGE_OF[refusal.reason]];
  if (refusal.retryAt === undefined) return { id, type: "error", text, context: { reason: refusal.reason } };
  const seconds = Math.max(1, Math.ceil((refusal.retryAt - now) / 1000));
  return {
    id,
    type: "error",
    text: `${text} Try again in ${humanWait(seconds)}.`,
    context: { reason: refusal.reason, retry_after_seconds: seconds, retry_at: new Date(refusal.retryAt).toISOString() },
  };
}

/**
 * A flow (Kratos's JSON) whose `ui.messages` is the shield's message alone, as Kratos's answer to
 * a failed submit holds that submit's messages only; undefined when it is not a flow.
 */
export function flowWithMessage(flow: unknown, message: UiMessage): Record<string, unknown> | undefined {
  if (!isJsonObject(flow) || !isJsonObject(flow.ui)) return undefined;
  return { ...flow, ui: { ...flow.ui, messages: [message] } };
}

const NO_STORE = "private, no-cache, no-store, must-revalidate";

function retryAfter(message: UiMessage): Record<string, string> {
  const seconds = message.context.retry_after_seconds;
  return seconds === undefined ? {} : { "retry-after": String(seconds) };
}

/**
 * The answer to a refused JSON submission (a native app's API flow, a single-page app's browser
 * flow): what Kratos answers a failed submit, a 400 with the flow, the message in `ui.messages`,
 * so the app shows it as any of Kratos's; `Retry-After` for the program. Without the flow (it
 * could not be fetched), a 429 in Kratos's error shape.
 */
export function jsonRefusal(flow: unknown, message: UiMessage): Response {
  const withMessage = flowWithMessage(flow, message);
  if (withMessage === undefined) {
    return kratosErrorResponse(STATUS.tooManyRequests, message.text, { reason: message.context.reason, headers: retryAfter(message) });
  }
  return new Response(JSON.stringify(withMessage), {
    status: STATUS.badRequest,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": NO_STORE, ...retryAfter(message) },
  });
}

/**
 * The answer to a refused form post: as Kratos answers a failed one, a 303 to the flow's UI
 * (`shield.uiUrls`), where the UI fetches the flow, through the gateway, with the message. With
 * no UI URL configured, a small HTML page that says it, with 429 and `Retry-After`.
 */
export function formRefusal(uiUrl: string | null, attempt: Attempt, message: UiMessage): Response {
  if (uiUrl !== null && attempt.flowId !== undefined) {
    const location = new URL(uiUrl);
    location.searchParams.set("flow", attempt.flowId);
    // 303 See Other: what Kratos answers a form post.
    return new Response(null, { status: STATUS.seeOther, headers: { location: location.href, "cache-control": NO_STORE } });
  }
  const escaped = message.text.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
  const page = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Please wait</title><p>${escaped}</p></html>\n`;
  return new Response(page, {
    status: STATUS.tooManyRequests,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": NO_STORE, ...retryAfter(message) },
  });
}
