import { Hono } from "hono";
import type { CountryCode } from "libphonenumber-js/max";
import type { Config } from "../config/schema.js";
import { readBody } from "../core/body.js";
import { STATUS } from "../core/http-status.js";
import type { Logger } from "../core/logger.js";
import { isPhoneRegion } from "../core/phone.js";
import { foldIdentifier } from "../gateway/shield/attempt.js";
import type { Shield } from "../gateway/shield/shield.js";
import { createAuthenticator, maskedKeyId, presentedKey } from "../http/auth.js";
import { type ErrorCode, errorResponse } from "../http/errors.js";

/** Where the admin routes live on the hooks listener; never on the gateway's, which is public. */
export const SHIELD_ADMIN_PREFIX = "/admin/shield/";

/** A listener's request handler, as `app.fetch` is one. */
export type Fetch = (request: Request, env?: object) => Response | Promise<Response>;

export interface ShieldAdminOptions {
  shield: Shield;
  /** The hooks' keys (`HOOKS_API_KEYS`): whoever may call the hooks may ask about the shield. */
  apiKeys: readonly string[];
  /** `normalizePhone.defaultRegion` reads a national number when the request names no `region`. */
  config: Config;
  logger: Logger;
}

/** What `POST /admin/shield/status` answers: counters only, nothing that echoes the identifier. */
export interface ShieldStatusBody {
  failures: number;
  locked: boolean;
  /** When the failures are forgotten (ISO 8601), or null when none are counted. */
  reset_at: string | null;
  sms_sent: number;
}

/** A body's identifier is a login identifier, never a document: anything longer is refused. */
const MAX_IDENTIFIER = 320;
const MAX_BODY = 4096;
const JSON_TYPE = /^application\/json\s*(;|$)/i;

type AdminInput = { ok: true; identifier: string; region: CountryCode | undefined } | { ok: false; code: ErrorCode; response: Response };

function refuse(code: ErrorCode, message: string, path: string | null = null): AdminInput {
  return { ok: false, code, response: errorResponse(code, message, path) };
}

const kindOf = (value: unknown) => (value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`);

/**
 * `{"identifier": "…", "region"?: "DE"}` in the body, never in the URL: an access log of the
 * path then holds no identifier. Messages name the field and what was found, never its value.
 */
async function readAdminRequest(request: Request): Promise<AdminInput> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!JSON_TYPE.test(contentType)) {
    return refuse("unsupported_content_type", `expected Content-Type: application/json, found ${JSON.stringify(contentType.slice(0, 64))}`);
  }
  const body = await readBody(request, MAX_BODY);
  if (!body.ok) return refuse("payload_too_large", `request body exceeds ${MAX_BODY} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body.bytes));
  } catch {
    return refuse("invalid_json", "body is not valid UTF-8 JSON");
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    return refuse("invalid_payload", `expected an object {"identifier": "…"}, found ${kindOf(json)}`);
  }
  const { identifier, region, ...rest } = json as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined)
    return refuse("invalid_payload", "expected identifier and region only, found an unknown key", unknown.slice(0, 64));
  if (typeof identifier !== "string") return refuse("invalid_payload", `expected a string, found ${kindOf(identifier)}`, "identifier");
  if (identifier.trim() === "") return refuse("invalid_payload", "expected a login identifier, found an empty string", "identifier");
  if (identifier.length > MAX_IDENTIFIER) {
    return refuse("invalid_payload", `expected at most ${MAX_IDENTIFIER} characters, found ${identifier.length}`, "identifier");
  }
  if (region === undefined) return { ok: true, identifier, region: undefined };
  if (typeof region === "string" && isPhoneRegion(region)) return { ok: true, identifier, region };
  const found = typeof region === "string" ? JSON.stringify(region.slice(0, 8)) : kindOf(region);
  return refuse("invalid_payload", `expected an ISO 3166-1 alpha-2 region such as DE, found ${found}`, "region");
}

/**
 * The shield's admin routes, for `kratos-hooks shield status|unlock`: `POST /admin/shield/status`
 * and `POST /admin/shield/unlock`, authenticated with the hooks' keys. The identifier is folded as
 * the gateway folds a login's (E.164 for a phone, else trimmed and lower-cased), so every spelling
 * of it names the same counters. One log line per call, naming the identifier by its pseudonym.
 */
export function createShieldAdmin(options: ShieldAdminOptions): Hono {
  const { shield, logger } = options;
  const defaultRegion = options.config.normalizePhone.defaultRegion ?? undefined;
  const authenticate = createAuthenticator(options.apiKeys);
  const app = new Hono();

  for (const action of ["status", "unlock"] as const) {
    const path = `${SHIELD_ADMIN_PREFIX}${action}`;
    app.post(path, async (c) => {
      const started = performance.now();
      const log = (fields: Record<string, unknown>, level: "info" | "warn" = "info") =>
        logger[level](
          { shield: `admin_${action}`, ...fields, durationMs: Math.round((performance.now() - started) * 100) / 100 },
          "shield admin call",
        );

      const authorization = c.req.header("authorization");
      if (!authenticate(authorization)) {
        const sent = presentedKey(authorization);
        log({ status: STATUS.unauthorized, error: "unauthorized", ...(sent !== undefined && { keyId: await maskedKeyId(sent) }) }, "warn");
        return errorResponse("unauthorized", "missing or wrong credentials: send Authorization: Bearer <one of HOOKS_API_KEYS>", null, {
          "www-authenticate": 'Bearer realm="kratos-hooks"',
        });
      }
      const input = await readAdminRequest(c.req.raw);
      if (!input.ok) {
        log({ status: input.response.status, error: input.code });
        return input.response;
      }
      const folded = foldIdentifier(input.identifier, input.region ?? defaultRegion);
      const subject = (await shield.pseudonyms.of("identifier", folded.value)).slice(0, 12);
      let body: ShieldStatusBody | { unlocked: true };
      try {
        if (action === "status") {
          const status = await shield.status(folded.value);
          body = {
            failures: status.failures,
            locked: status.locked,
            reset_at: status.resetAt === undefined ? null : new Date(status.resetAt).toISOString(),
            sms_sent: status.smsSent,
          };
        } else {
          await shield.unlock(folded.value);
          body = { unlocked: true };
        }
      } catch (error) {
        // The store (Redis) did not answer: the operator may retry; never a 500.
        log(
          { status: STATUS.unavailable, error: "unavailable", subject, store: shield.store.kind, err: { type: (error as Error).name } },
          "warn",
        );
        return errorResponse("unavailable", `the shield's store (${shield.store.kind}) did not answer; try again`);
      }
      log({ status: STATUS.ok, subject, kind: folded.kind, ...("failures" in body && { failures: body.failures, locked: body.locked }) });
      return c.json(body, STATUS.ok, { "cache-control": "no-store" });
    });
    app.all(path, () => errorResponse("method_not_allowed", `use POST for ${path}`, null, { allow: "POST" }));
  }
  // As the hooks app answers a path it does not know, and an error of its own (src/http/app.ts).
  app.notFound((c) => errorResponse("not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname.slice(0, 128)}`));
  app.onError((error) => {
    const requestId = crypto.randomUUID();
    logger.error({ requestId, shield: "admin", status: STATUS.internalError, err: { type: error.name } }, "internal error");
    return errorResponse("internal_error", `internal error (request ${requestId})`);
  });
  return app;
}

/**
 * The hooks listener's handler: `/admin/shield/*` to the admin app once there is one (a shield
 * runs), everything else to the hooks. Without a shield those paths get the hooks' own 404.
 */
export function routeShieldAdmin(hooks: Fetch, admin: () => Fetch | undefined): Fetch {
  return (request, env) => {
    const target = admin();
    if (
      target !== undefined &&
      request.url.includes(SHIELD_ADMIN_PREFIX) &&
      new URL(request.url).pathname.startsWith(SHIELD_ADMIN_PREFIX)
    ) {
      return target(request, env);
    }
    return hooks(request, env);
  };
}
