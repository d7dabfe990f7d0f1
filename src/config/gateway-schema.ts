import * as z from "zod";
import { shield } from "./shield-schema.js";

/**
 * Kratos may spend 93 s on one submit for each synchronous web_hook (3 attempts of 30 s, with 1 s
 * and 2 s between them: contract §4.1). A gateway that gives up sooner answers 504 while Kratos goes
 * on and, say, creates the identity; so the default waits longer than that.
 */
const DEFAULT_UPSTREAM_TIMEOUT_MS = 100_000;

/** `gateway`: the gateway in front of Kratos's public API (docs/gateway.md), its shield included. */
export const gateway = z.strictObject({
  upstreamTimeoutMs: z
    .number()
    .int()
    .min(1000)
    .max(600_000)
    .default(DEFAULT_UPSTREAM_TIMEOUT_MS)
    .describe(
      "How long the gateway waits for Kratos's response headers before answering 504; longer than the 93 s Kratos may spend on one web_hook.",
    ),
  trustForwardedHeaders: z
    .boolean()
    .default(false)
    .describe(
      "Keep and extend the client's `X-Forwarded-*` and `True-Client-IP` (a proxy of yours is in front) instead of replacing them.",
    ),
  regionFromClientCountry: z
    .boolean()
    .default(false)
    .describe("Workers: read national numbers in Cloudflare's `request.cf.country` (after the header, before `defaultRegion`)."),
  shield: shield.prefault({}),
});
