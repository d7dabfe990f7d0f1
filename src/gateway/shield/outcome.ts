import { STATUS } from "../../core/http-status.js";
import { isJsonObject } from "../../core/json.js";

/**
 * What Kratos's answer to a submission means, for API (JSON) and browser (JSON or form) flows:
 * - `success`: a session (a session token, a session, or a 303 away from the flow that sets one);
 * - `code_sent`: the flow is in `sent_email` with Kratos's "code sent" message (API flows answer
 *   it with a 400);
 * - `credential_failure`: one of Kratos's messages for a wrong secret, or a code login for an
 *   account that does not exist (4000035);
 * - `other`: anything else (a validation error, an expired flow, a CSRF failure, Kratos's errors).
 */
export type Outcome =
  | { kind: "success" }
  | { kind: "code_sent"; messageId: number | undefined }
  | { kind: "credential_failure"; messageId: number }
  | {
      kind: "other";
      status: number;
      /** Kratos showed the flow's form again (a validation error): the submit did nothing, no code was sent. */
      shownAgain?: true;
    };

/**
 * Kratos's message ids for a wrong secret (`text/id.go`, v1.3.1 to v26.2.0): the invalid
 * credentials (4000006); a wrong or used code in login (4010008), registration (4040003),
 * recovery (4060006) and verification (4070006); a guessed TOTP (4000008) or lookup code
 * (4000016); 4010010; and a code login for an account that does not exist (4000035), which is an
 * enumeration and SMS probe.
 */
export const CREDENTIAL_FAILURE_IDS: ReadonlySet<number> = new Set([
  4000006, 4010008, 4040003, 4060006, 4070006, 4000008, 4000016, 4010010, 4000035,
]);

/** "A code was sent": login 1010014, registration 1040005, recovery 1060003 (1060004 masked, v25.4+), verification 1080003. */
export const CODE_SENT_IDS: ReadonlySet<number> = new Set([1010014, 1040005, 1060003, 1060004, 1080003]);

/** The message ids of a flow: its own messages and its nodes'. */
export function messageIdsOf(flow: Record<string, unknown>): number[] {
  const ids: number[] = [];
  const ui = flow.ui;
  if (!isJsonObject(ui)) return ids;
  const collect = (messages: unknown) => {
    if (!Array.isArray(messages)) return;
    for (const message of messages) if (isJsonObject(message) && typeof message.id === "number") ids.push(message.id);
  };
  collect(ui.messages);
  if (Array.isArray(ui.nodes)) for (const node of ui.nodes) if (isJsonObject(node)) collect(node.messages);
  return ids;
}

/** The outcome a flow (as Kratos answers it or serves it) records for its last submit. */
export function outcomeOfFlow(flow: Record<string, unknown>, status: number): Outcome {
  const ids = messageIdsOf(flow);
  const failure = ids.find((id) => CREDENTIAL_FAILURE_IDS.has(id));
  if (failure !== undefined) return { kind: "credential_failure", messageId: failure };
  if (flow.state === "sent_email" && ids.some((id) => CODE_SENT_IDS.has(id)))
    return { kind: "code_sent", messageId: ids.find((id) => CODE_SENT_IDS.has(id)) };
  return { kind: "other", status, shownAgain: true };
}

/** The outcome of a JSON answer: a 200 with a session (token), or a flow. */
export function outcomeOfJson(status: number, body: unknown): Outcome {
  if (!isJsonObject(body)) return { kind: "other", status };
  if (status === STATUS.ok && (typeof body.session_token === "string" || isJsonObject(body.session))) return { kind: "success" };
  if (status === STATUS.badRequest && body.ui !== undefined) return outcomeOfFlow(body, status);
  return { kind: "other", status };
}

/** Cookies a Set-Cookie list sets (a value, not a deletion), by name. */
function cookiesSet(setCookie: readonly string[]): string[] {
  const names: string[] = [];
  for (const line of setCookie) {
    const [pair = "", ...attributes] = line.split(";");
    const eq = pair.indexOf("=");
    if (eq <= 0 || pair.slice(eq + 1).trim() === "") continue;
    if (attributes.some((a) => /^\s*max-age\s*=\s*(0|-)/i.test(a))) continue;
    names.push(pair.slice(0, eq).trim());
  }
  return names;
}

/**
 * What a redirect answer (a browser form post) means:
 * - to the flow's own UI (`?flow=<this flow>`): a failure or a code sent, told apart only by the
 *   flow itself (`fetch`: `undefined`);
 * - elsewhere, setting a cookie other than the CSRF one: a success (`return_to` and the session);
 * - anything else is `other` (Kratos's error page, `?id=`).
 */
export function redirectOutcome(
  status: number,
  location: string | undefined,
  setCookie: readonly string[],
  flowId: string | undefined,
): Outcome | "fetch_flow" {
  if (location === undefined) return { kind: "other", status };
  let url: URL;
  try {
    url = new URL(location, "http://relative.invalid");
  } catch {
    return { kind: "other", status };
  }
  if (flowId !== undefined && url.searchParams.get("flow") === flowId) return "fetch_flow";
  const session = cookiesSet(setCookie).some((name) => !name.startsWith("csrf_token"));
  return session ? { kind: "success" } : { kind: "other", status };
}
