import type { Config } from "../config/schema.js";
import { MAX_BODY_BYTES } from "../core/body.js";
import { NO_METRICS } from "../core/metrics.js";
import { SELF_SERVICE_FLOWS, type SelfServiceFlow } from "../kratos/self-service.js";
import type { GatewayOptions } from "./app.js";
import type { GetConnInfo } from "./conn-info.js";
import { createFetchRuntime, getDefaultConnInfo } from "./fetch-runtime.js";
import { bodyLimit, loopCheck, requestRefusal } from "./request-checks.js";
import type { RequestLogDeps } from "./request-log.js";
import { randomSecret } from "./shield/keys.js";
import { MemoryStore } from "./shield/memory-store.js";
import { createShield, type Shield } from "./shield/shield.js";
import { phoneFieldsOf } from "./submission.js";
import type { GatewayTransport } from "./transport.js";

/** What every step of a gateway request reads: made once per gateway, from its options. */
export interface GatewayDeps extends RequestLogDeps {
  config: Config;
  /** How requests reach Kratos. */
  transport: GatewayTransport;
  /** Who the client is. */
  connInfo: GetConnInfo;
  /** Kratos's public origin, no trailing slash. */
  base: string;
  shield: Shield | undefined;
  /** Whether self-service submissions are read: the phone rewriting or the shield needs them. */
  reading: boolean;
  /** `normalizePhone.regionHeader`, lower-case, or null. */
  regionHeader: string | null;
  /** The fields of each flow's submission that hold a phone number (`normalizePhone.fields`). */
  fieldsOf: ReadonlyMap<SelfServiceFlow, ReadonlySet<string>>;
  checks: {
    refusal: ReturnType<typeof requestRefusal>;
    loop: ReturnType<typeof loopCheck>;
    body: ReturnType<typeof bodyLimit>;
  };
}

/** The shield `createGateway` runs: the one passed, else on the memory store when `gateway.shield.enabled`; none with `false`. */
function shieldOf(options: GatewayOptions): Shield | undefined {
  const { config } = options;
  if (options.shield === false || !config.gateway.shield.enabled) return undefined;
  return (
    options.shield ??
    createShield({
      config: config.gateway.shield,
      store: new MemoryStore(),
      secret: randomSecret(),
      allowedCountries: config.normalizePhone.allowedCountries,
      deniedCountries: config.normalizePhone.deniedCountries,
    })
  );
}

/** The gateway's dependencies from `createGateway`'s options: the `fetch` transport and `getDefaultConnInfo` by default. */
export function gatewayDeps(options: GatewayOptions): GatewayDeps {
  const { config, logger } = options;
  const transport = options.runtime ?? createFetchRuntime();
  const connInfo = options.connInfo ?? getDefaultConnInfo;
  const shield = shieldOf(options);
  return {
    config,
    logger,
    metrics: options.metrics ?? NO_METRICS,
    transport,
    connInfo,
    base: options.upstream.href.replace(/\/$/, ""),
    shield,
    reading: config.normalizePhone.enabled || shield !== undefined,
    regionHeader: config.normalizePhone.regionHeader?.toLowerCase() ?? null,
    fieldsOf: new Map(SELF_SERVICE_FLOWS.map((flow) => [flow, phoneFieldsOf(flow, config.normalizePhone.fields)])),
    checks: {
      refusal: requestRefusal({ framingRefusal: transport.framingRefusal?.bind(transport) }),
      loop: loopCheck(),
      body: bodyLimit({ maxSize: MAX_BODY_BYTES }),
    },
  };
}
