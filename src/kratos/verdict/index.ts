import type { HookId } from "../../core/hooks.js";
import { isRedirect, STATUS } from "../../core/http-status.js";
import { isJsonObject } from "../../core/json.js";
import { toIdentityChangeVerdict } from "./identity-change.js";
import { toDenialVerdict } from "./messages.js";
import { fail, type HookOutcome, parseJSON, type Verdict, type VerdictContext } from "./model.js";

// What Kratos does with a hook's answer, by status (`selfservice/hook/web_hook.go` `execute`).
// Pure: the CLI's `try` and the tests share it. messages.ts reads a 4xx body, identity-change.ts
// a 200 `{"identity": …}`; both read what a hook is from the HOOKS table.
export { toNodeName } from "./messages.js";
export type { Change, HookOutcome, ShownMessage, Verdict, VerdictContext, VerdictKind } from "./model.js";

const RETRIED =
  "Kratos retries 429 and 5xx answers (except 501) 3 times, 1 s and 2 s apart, never reads their body, and then fails the flow with a generic error";

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
      // Not an answer at all: nothing about 429 or 5xx applies, Kratos's client retries the connection.
      return fail(
        `the hook is unreachable (${outcome.message})${outcome.message === "ECONNREFUSED" ? ": connection refused, nothing listens at that address and port" : ""}`,
        'Kratos cannot connect either: it makes 3 attempts, 1 s and 2 s apart, then fails the flow with "giving up after 3 attempt(s)" (a native flow gets HTTP 400 with error.code 500 on v1.3.1); start the service or fix the URL in kratos.yml',
      );
    case "timeout":
      return fail("the hook did not answer within 30 s", `Kratos gives up on each attempt after 30 s and retries; then it answers 504`);
    case "answered":
      break;
  }
  const { status, body } = outcome;
  // 501 is the one 5xx Kratos reads as a refusal.
  if (status === STATUS.tooManyRequests || (status >= STATUS.internalError && status !== STATUS.notImplemented)) {
    const parsed = parseJSON(body);
    const notes =
      parsed.ok && isJsonObject(parsed.value) && Array.isArray(parsed.value.messages)
        ? [`the messages in this ${status} body are never shown: send them with a 4xx such as 422`]
        : [];
    return fail(`the hook answered ${status}`, RETRIED, notes);
  }
  if (status >= STATUS.badRequest) return toDenialVerdict(hook, status, body, context);
  if (status === STATUS.noContent)
    return { kind: "continue", headline: "Kratos continues unchanged", reason: "204 means no change", notes: [] };
  if (status !== STATUS.ok) {
    const notes =
      isRedirect(status) && outcome.location !== undefined
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
  if (parsed.value !== null && !isJsonObject(parsed.value)) {
    return fail(
      `the 200 body is a JSON ${Array.isArray(parsed.value) ? "array" : typeof parsed.value}`,
      "Kratos decodes a 200 body into an object and fails on anything else (500)",
    );
  }
  const identity = parsed.value === null ? null : (parsed.value.identity ?? null);
  if (identity === null) {
    return { kind: "continue", headline: "Kratos continues unchanged", reason: 'a 200 without "identity" changes nothing', notes: [] };
  }
  if (!isJsonObject(identity)) {
    return fail('"identity" in the 200 body is not an object', "Kratos cannot decode the identity and ends the flow with a 500");
  }
  return toIdentityChangeVerdict(hook, identity, context);
}

/** Exit status of `try`: 0 when Kratos goes on, 1 when it stops or fails. */
export function exitCodeOf(verdict: Verdict): 0 | 1 {
  return verdict.kind === "continue" || verdict.kind === "save" ? 0 : 1;
}
