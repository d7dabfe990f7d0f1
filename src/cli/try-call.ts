import type { Config } from "../config/schema.js";
import type { HookId } from "../core/hooks.js";
import { createApp } from "../http/app.js";
import type { HookOutcome } from "../kratos/verdict/index.js";
import { UsageError } from "./usage.js";

/** The handler in-process, with the keys the service reads and the auth header kratos.yml makes Kratos send. */
export async function callInProcess(
  hook: HookId,
  config: Config,
  keys: readonly string[],
  headers: Record<string, string>,
  body: unknown,
): Promise<HookOutcome> {
  const quiet = { info() {}, warn() {}, error() {} };
  const app = createApp({ config, apiKeys: keys, logger: quiet });
  const response = await app.request(`/hooks/${hook}`, { method: "POST", headers, body: JSON.stringify(body) });
  return { kind: "answered", status: response.status, body: await response.text() };
}

/** The hook's URL at `--url`: a base gets `hooks/<hook>` appended, a URL that already names a hook is kept. */
export function hookURL(base: string, hook: HookId): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`--url must be an http(s) URL such as http://127.0.0.1:8787, found ${JSON.stringify(base)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`--url must be an http(s) URL, found ${base}`);
  if (/\/hooks\/[^/]+\/?$/.test(url.pathname)) return url.href;
  return new URL(`hooks/${hook}`, url.href.endsWith("/") ? url.href : `${url.href}/`).href;
}

/**
 * Calls a running handler with the rendered body as Jsonnet prints it (indented by three), no
 * redirect followed and a 30 s timeout; a timeout or a failed connection is an outcome that names
 * its cause, not a throw.
 */
export async function callOver(url: string, method: string, headers: Record<string, string>, body: unknown): Promise<HookOutcome> {
  try {
    const response = await fetch(url, {
      method,
      headers,
      body: method === "TRACE" ? null : JSON.stringify(body, null, 3),
      redirect: "manual",
      signal: AbortSignal.timeout(30_000),
    });
    return {
      kind: "answered",
      status: response.status,
      body: await response.text(),
      location: response.headers.get("location") ?? undefined,
    };
  } catch (error) {
    if ((error as Error).name === "TimeoutError") return { kind: "timeout" };
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { kind: "unreachable", message: cause?.code ?? cause?.message ?? (error as Error).message };
  }
}
