import { type GatewayRule, kratosErrorResponse } from "kratos-hooks";

/** The most clients tracked at once; past it, expired windows are dropped first. */
const MAX_TRACKED = 100_000;

/**
 * At most `max` login submissions (`POST /self-service/login`) per client address in each
 * window of `windowMs`; the next ones get Kratos's error shape with 429 and `Retry-After`.
 * Counted in this process's memory: with several instances, each counts its own share.
 */
export function loginLimit(options: { max: number; windowMs: number; now?: () => number }): GatewayRule {
  const { max, windowMs, now = Date.now } = options;
  const windows = new Map<string, { count: number; endsAt: number }>();
  return async (c, next) => {
    if (c.req.method !== "POST" || c.req.path !== "/self-service/login") return next();
    const address = c.get("clientAddress") ?? "unknown";
    const time = now();
    let window = windows.get(address);
    if (window === undefined || window.endsAt <= time) {
      if (windows.size >= MAX_TRACKED) for (const [key, w] of windows) if (w.endsAt <= time) windows.delete(key);
      window = { count: 0, endsAt: time + windowMs };
      windows.set(address, window);
    }
    window.count += 1;
    if (window.count > max) {
      const seconds = Math.max(1, Math.ceil((window.endsAt - time) / 1000));
      return kratosErrorResponse(429, "Too many sign-in attempts. Please wait a minute and try again.", {
        reason: "login_rate_limited",
        headers: { "retry-after": String(seconds) },
      });
    }
    return next();
  };
}
