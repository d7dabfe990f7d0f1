import { MAX_BODY_BYTES, readBody } from "../core/body.js";
import type { HookInput } from "../core/decision.js";
import type { HookId } from "../core/hooks.js";
import { parseHookPayload } from "../kratos/payload.js";
import { type ErrorCode, errorResponse } from "./errors.js";

const JSON_TYPE = /^application\/json\s*(;|$)/i;

export type HookRequest = { ok: true; input: HookInput } | { ok: false; code: ErrorCode; response: Response };

function refuse(code: ErrorCode, message: string, path: string | null = null): HookRequest {
  return { ok: false, code, response: errorResponse(code, message, path) };
}

/**
 * Reads an authenticated hook request into the policies' input, or the 4xx that names the
 * first problem: content type, size (1 MiB), UTF-8 JSON, then the payload's shape.
 */
export async function readHookRequest(hook: HookId, request: Request): Promise<HookRequest> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!JSON_TYPE.test(contentType)) {
    const found = JSON.stringify(contentType.slice(0, 64));
    return refuse("unsupported_content_type", `expected Content-Type: application/json, found ${found}`);
  }
  const body = await readBody(request, MAX_BODY_BYTES);
  if (!body.ok) return refuse("payload_too_large", `request body exceeds ${MAX_BODY_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body.bytes));
  } catch {
    // The parser's own message quotes the input, which may hold personal data: not repeated.
    return refuse("invalid_json", "body is not valid UTF-8 JSON");
  }
  const parsed = parseHookPayload(hook, json);
  if (!parsed.ok) return refuse("invalid_payload", parsed.problem.message, parsed.problem.path);
  return { ok: true, input: parsed.input };
}
