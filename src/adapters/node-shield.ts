import type { GatewaySettings } from "../config/node-settings.js";
import type { Config } from "../config/schema.js";
import type { Logger } from "../core/logger.js";
import { randomSecret } from "../gateway/shield/keys.js";
import { MemoryStore } from "../gateway/shield/memory-store.js";
import { createShield, type Shield } from "../gateway/shield/shield.js";
import type { ShieldStore } from "../gateway/shield/store.js";
import { nodeHmac } from "./node-gateway.js";
import { createRedisShieldStore, type RedisShieldStore } from "./redis-shield-store.js";

/** A shield's store, and the Redis connection among them that `close()` must close. */
export interface OpenedStore {
  store: ShieldStore;
  redis: RedisShieldStore | undefined;
}

/**
 * The shield's store: Redis when `GATEWAY_SHIELD_REDIS_URL` is set, else this process's memory.
 * The service starts without Redis too: attempts then follow shield.failMode until it answers.
 */
async function openStore(redisUrl: string | undefined, logger: Logger): Promise<OpenedStore> {
  if (redisUrl === undefined) return { store: new MemoryStore(), redis: undefined };
  const redis = createRedisShieldStore(redisUrl, {
    onDown: (error) => logger.warn({ shield: "store_down", store: "redis", err: { type: error.name } }, "shield: Redis is down"),
    onUp: () => logger.info({ shield: "store_up", store: "redis" }, "shield: Redis is up"),
  });
  await redis
    .ready()
    .catch((error: Error) =>
      logger.warn({ shield: "store_down", store: "redis", err: { type: error.name } }, "shield: Redis is not reachable at start"),
    );
  return { store: redis, redis };
}

/** The start-up lines of a shield that is on: a secret of this process's own, and how it counts. */
function logShieldOn(gateway: GatewaySettings, config: Config, store: ShieldStore, logger: Logger): void {
  const shieldConfig = config.gateway.shield;
  if (gateway.shieldSecret === undefined) {
    logger.warn(
      { shield: "secret_random" },
      "GATEWAY_SHIELD_SECRET is not set: the shield's pseudonyms use a secret of this process's own (fine for one instance on the memory store)",
    );
  }
  logger.info(
    {
      shield: "on",
      store: store.kind,
      failMode: shieldConfig.failMode,
      perClient: shieldConfig.perClient,
      trustForwardedHeaders: config.gateway.trustForwardedHeaders,
    },
    shieldConfig.perClient === "auto" && !config.gateway.trustForwardedHeaders
      ? "shield on: if the gateway's peers turn out to be private addresses (an ingress in front), it will not count per client; set gateway.trustForwardedHeaders behind a proxy"
      : "shield on",
  );
}

/**
 * The store of the gateway's shield when `gateway.shield.enabled` (undefined when it is off),
 * with the shield's start-up lines.
 */
export async function openShieldStore(gateway: GatewaySettings, config: Config, logger: Logger): Promise<OpenedStore | undefined> {
  if (!config.gateway.shield.enabled) return undefined;
  const opened = await openStore(gateway.shieldRedisUrl, logger);
  logShieldOn(gateway, config, opened.store, logger);
  return opened;
}

/** The gateway's shield on its store, with Node's synchronous HMAC. */
export function createNodeShield(store: ShieldStore, gateway: GatewaySettings, config: Config): Shield {
  return createShield({
    config: config.gateway.shield,
    store,
    secret: gateway.shieldSecret ?? randomSecret(),
    allowedCountries: config.normalizePhone.allowedCountries,
    deniedCountries: config.normalizePhone.deniedCountries,
    hmac: nodeHmac,
  });
}
