import type { CountryCode } from "libphonenumber-js/max";
import * as z from "zod";
import { DEV_API_KEY, hasBearerPrefix, splitApiKeys } from "../config/env.js";
import { DEFAULT_HOOKS_PORT } from "../config/node-settings.js";
import { ConfigError } from "../config/parse.js";
import { STATUS } from "../core/http-status.js";
import { foldIdentifier } from "../gateway/shield/attempt.js";
import { createShield } from "../gateway/shield/shield.js";
import { loadCliConfig } from "./cli-config.js";
import { parseRegion } from "./region-option.js";
import { EXIT, UsageError } from "./usage.js";

export type ShieldAction = "status" | "unlock";

export interface ShieldArgs {
  action: ShieldAction;
  identifier: string;
  url?: string | undefined;
  redis?: string | undefined;
  region?: string | undefined;
  insecure?: boolean | undefined;
  config?: string | undefined;
  json?: boolean | undefined;
}

interface ShieldIO {
  out: (text: string) => void;
  err: (text: string) => void;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The hooks listener `npm start` opens (PORT), where the admin routes are. */
export const DEFAULT_HOOKS_URL = `http://127.0.0.1:${DEFAULT_HOOKS_PORT}`;

/** What `POST /admin/shield/status` answers (src/adapters/shield-admin.ts), and `--json` prints. */
const statusBody = z.object({
  failures: z.number().int().min(0),
  locked: z.boolean(),
  reset_at: z.string().nullable(),
  sms_sent: z.number().int().min(0),
});
type StatusBody = z.infer<typeof statusBody>;

type Answer = { kind: "status"; body: StatusBody } | { kind: "unlock" };

/** The `{"error": {"message"}}` of the hooks' error answers, when the body is one. */
const errorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** A request that failed after it reached the service or Redis: exit 1, the message on stderr. */
class ShieldFailure extends Error {}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|::1)$/i;

/** The hooks listener's base URL; plain http only to this machine, unless `--insecure`. */
function parseHooksUrl(raw: string, insecure: boolean): URL {
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:") || url.search !== "" || url.hash !== "") {
    throw new UsageError(`--url: expected the hooks listener's http(s) URL such as ${DEFAULT_HOOKS_URL}, found ${JSON.stringify(raw)}`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new UsageError("--url: expected no credentials in the URL; the key comes from HOOKS_API_KEY or HOOKS_API_KEYS");
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (url.protocol === "http:" && !LOOPBACK.test(host) && !insecure) {
    throw new UsageError(
      `--url: refusing to send the API key over plain http to ${url.host}, which is not this machine: use https, ` +
        "or add --insecure if the network in between is yours alone",
    );
  }
  return url;
}

/** The key to send: HOOKS_API_KEY, else the first of HOOKS_API_KEYS, else the development key the service then accepts. */
function apiKeyOf(env: Env): string {
  const key = env.HOOKS_API_KEY?.trim() || splitApiKeys(env.HOOKS_API_KEYS ?? "").find((k) => k !== "") || DEV_API_KEY;
  if (hasBearerPrefix(key))
    throw new UsageError('HOOKS_API_KEY: the key starts with "Bearer ": drop the Bearer prefix (its value is not shown)');
  return key;
}

async function overHttp(args: ShieldArgs, region: CountryCode | undefined, env: Env): Promise<Answer> {
  const base = parseHooksUrl(args.url ?? DEFAULT_HOOKS_URL, args.insecure === true);
  const endpoint = `${base.origin}${base.pathname.replace(/\/+$/, "")}/admin/shield/${args.action}`;
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKeyOf(env)}`, "content-type": "application/json", accept: "application/json" },
      // In the body, never the URL: no access log on the way holds the identifier.
      body: JSON.stringify({ identifier: args.identifier, ...(region && { region }) }),
      signal: AbortSignal.timeout(10_000),
      redirect: "manual",
    });
  } catch (error) {
    // undici says "fetch failed" and puts the reason (ECONNREFUSED, ENOTFOUND, "bad port") in its cause.
    const { cause } = error as Error & { cause?: { code?: string; message?: string } };
    const why = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new UsageError(`cannot reach the service at ${base.origin} (${why}); is it running, and is this its hooks listener (PORT)?`);
  }
  const text = await response.text();
  const json = (() => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  })();
  const said = errorBody.safeParse(json);
  const message = said.success ? `: ${said.data.error.message}` : "";
  if (response.status === STATUS.unauthorized) {
    throw new UsageError(
      `the service at ${base.origin} refused the key (401): set HOOKS_API_KEY (or HOOKS_API_KEYS) to one of the service's HOOKS_API_KEYS`,
    );
  }
  if (response.status === STATUS.notFound) {
    throw new UsageError(
      `no shield at ${base.origin} (404): it runs only beside the gateway (GATEWAY_KRATOS_URL set, gateway.shield.enabled), ` +
        `and its admin routes are on the hooks listener (PORT, ${DEFAULT_HOOKS_PORT}), never on the gateway's`,
    );
  }
  if (response.status === STATUS.badRequest || response.status === STATUS.payloadTooLarge) {
    // The hooks' error shape names what was wrong; another shape is another server (the gateway forwards to Kratos).
    throw new UsageError(
      said.success
        ? `the service refused the request (${response.status})${message}`
        : `${base.origin} answered ${response.status}, not as the hooks listener answers: is it the hooks' (PORT, ${DEFAULT_HOOKS_PORT}), not the gateway's?`,
    );
  }
  if (response.status !== STATUS.ok) throw new ShieldFailure(`the service at ${base.origin} answered ${response.status}${message}`);
  if (args.action === "unlock") return { kind: "unlock" };
  const body = statusBody.safeParse(json);
  if (!body.success) throw new ShieldFailure(`the service at ${base.origin} answered 200 with a body that is not a shield status`);
  return { kind: "status", body: body.data };
}

async function overRedis(args: ShieldArgs, redisUrl: string, region: CountryCode | undefined, env: Env): Promise<Answer> {
  const secret = env.GATEWAY_SHIELD_SECRET?.trim();
  if (secret === undefined || secret === "") {
    throw new UsageError(
      "--redis needs GATEWAY_SHIELD_SECRET, the service's own: Redis holds keyed hashes of identifiers, never the identifiers",
    );
  }
  if (secret.length < 16) throw new UsageError("GATEWAY_SHIELD_SECRET: expected at least 16 characters, as the service requires");
  const { config } = loadCliConfig(args.config);
  // Loaded on use, like the service's: ioredis is for --redis alone.
  const { createRedisShieldStore } = await import("../adapters/redis-shield-store.js");
  let store: ReturnType<typeof createRedisShieldStore>;
  try {
    // A person waits here, not a login: more patient than the service's 300 ms.
    store = createRedisShieldStore(redisUrl, { commandTimeoutMs: 5_000, connectTimeoutMs: 5_000 });
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(`--redis: ${error.message}`);
    throw error;
  }
  try {
    try {
      await store.ready();
    } catch (error) {
      throw new UsageError(`cannot reach Redis: ${(error as Error).message}`);
    }
    const shield = createShield({
      config: config.gateway.shield,
      store,
      secret,
      allowedCountries: config.normalizePhone.allowedCountries,
      deniedCountries: config.normalizePhone.deniedCountries,
    });
    // As the service's admin route folds it (src/adapters/shield-admin.ts).
    const identifier = foldIdentifier(args.identifier, region ?? config.normalizePhone.defaultRegion ?? undefined).value;
    try {
      if (args.action === "unlock") {
        await shield.unlock(identifier);
        return { kind: "unlock" };
      }
      const status = await shield.status(identifier);
      return {
        kind: "status",
        body: {
          failures: status.failures,
          locked: status.locked,
          reset_at: status.resetAt === undefined ? null : new Date(status.resetAt).toISOString(),
          sms_sent: status.smsSent,
        },
      };
    } catch (error) {
      throw new ShieldFailure((error as Error).message);
    }
  } finally {
    await store.close();
  }
}

/** The human lines of an answer. */
export function formatShield(answer: Answer): string {
  if (answer.kind === "unlock") {
    return "unlocked: its failed logins and its SMS budget start afresh, on every client (a client locked out across identifiers stays so)\n";
  }
  const { failures, locked, reset_at, sms_sent } = answer.body;
  return [
    `failed logins  ${failures}${reset_at === null ? "" : `, forgotten at ${reset_at}`}`,
    `locked         ${locked ? "yes: refused on every client but the owner's known devices (kratos-hooks shield unlock ends it)" : "no"}`,
    `SMS sent       ${sms_sent} in the current window`,
    "",
  ].join("\n");
}

/**
 * `kratos-hooks shield status|unlock <identifier>`: through the running service's admin route on
 * its hooks listener (`--url`), or to Redis directly (`--redis`, with the service's secret and
 * config). Exit 0 when done, 1 when the service or its store failed the request, 2 on a usage
 * error, a service or Redis that cannot be reached, a refused key, or no shield there.
 */
export async function shieldCommand(args: ShieldArgs, io: ShieldIO, env: Env): Promise<number> {
  if (args.url !== undefined && args.redis !== undefined) throw new UsageError("give either --url or --redis, not both");
  if (args.config !== undefined && args.redis === undefined) {
    throw new UsageError("--config is read with --redis only: through --url the service uses its own config");
  }
  if (args.insecure === true && args.redis !== undefined) throw new UsageError("--insecure is for --url only");
  const region = parseRegion(args.region);
  let answer: Answer;
  try {
    answer = args.redis === undefined ? await overHttp(args, region, env) : await overRedis(args, args.redis, region, env);
  } catch (error) {
    if (!(error instanceof ShieldFailure)) throw error;
    io.err(`kratos-hooks: ${error.message}\n`);
    return EXIT.problems;
  }
  io.out(args.json ? `${JSON.stringify(answer.kind === "status" ? answer.body : { unlocked: true })}\n` : formatShield(answer));
  return EXIT.ok;
}
