import type { JsonObject } from "../core/decision.js";
import { factsOf, type HookId } from "../core/hooks.js";
import { isJsonObject } from "../core/json.js";

/** What Kratos sends as a flow's id before there is one, and as the id of an identity not stored yet. */
const NIL_UUID = "00000000-0000-0000-0000-000000000000";
/**
 * `identity.id` for a hand-written login-after or settings-after ctx without one: Kratos always
 * sends the stored identity's id there, and the shipped templates read it. A fixed placeholder,
 * not the nil UUID, which is what Kratos sends for an identity not stored yet (registration-after).
 */
const PLACEHOLDER_IDENTITY_ID = "00000000-0000-4000-8000-000000000001";

const isSet = (value: unknown) => value !== undefined && value !== null;
const isPresent = (value: unknown) => value !== undefined;

/**
 * Fills in, in place, what Kratos always puts in a web_hook's ctx (`selfservice/hook/web_hook.go`
 * `templateContext`: the flow's id and type, the request's headers, method, URL and cookies; an
 * identity's id, the nil UUID before it is stored, and its metadata_public, null when unset) and
 * a hand-written ctx may leave out, so that a template or a policy reading it does not fail where
 * Kratos would not. An identity that is not an object is left to the caller to refuse. Returns
 * what it filled, as `path (value)`, for `kratos-hooks try` to say; kratos-hooks/testing builds
 * its ctx with it too, so both send what Kratos sends.
 */
export function completeWebHookCtx(ctx: JsonObject, hook: HookId): string[] {
  const filled: string[] = [];
  const fill = (target: JsonObject, key: string, value: unknown, path: string, present: (v: unknown) => boolean) => {
    if (present(target[key])) return;
    target[key] = value;
    filled.push(`${path} (${JSON.stringify(value)})`);
  };
  fill(ctx, "flow", {}, "flow", isJsonObject);
  const flow = ctx.flow as JsonObject;
  fill(flow, "id", NIL_UUID, "flow.id", isSet);
  fill(flow, "type", "api", "flow.type", isSet);
  fill(ctx, "request_headers", {}, "request_headers", isJsonObject);
  fill(ctx, "request_method", "POST", "request_method", isSet);
  fill(ctx, "request_url", "", "request_url", isSet);
  fill(ctx, "request_cookies", {}, "request_cookies", isJsonObject);
  const facts = factsOf(hook);
  if (facts.hasIdentity && isJsonObject(ctx.identity)) {
    fill(ctx.identity, "id", facts.createsIdentity ? NIL_UUID : PLACEHOLDER_IDENTITY_ID, "identity.id", isSet);
    fill(ctx.identity, "metadata_public", null, "identity.metadata_public", isPresent);
  }
  return filled;
}
