import { readdirSync, readFileSync } from "node:fs";
import { Writable } from "node:stream";
import type { Hono } from "hono";
import { createPinoLogger } from "../../src/adapters/node-logger.js";
import { parseConfig } from "../../src/config/parse.js";
import type { Config } from "../../src/config/schema.js";
import type { Policy } from "../../src/core/policy.js";
import { type AppEnv, createApp } from "../../src/http/app.js";

/** The shipped example contexts, `kratos/examples/<hook>.<scenario>.json` (what `kratos-hooks try --example` reads). */
export const FIXTURES_DIR = new URL("../../kratos/examples/", import.meta.url);
export const TEST_KEY = "test-key-0123456789abcdef";
export const OTHER_KEY = "rotated-key-fedcba9876543210";

/** The shipped examples' names, `<hook>.<scenario>`, sorted. */
export function fixtureNames(): string[] {
  return readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** A shipped example's ctx, parsed. */
export function loadFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES_DIR), "utf8"));
}

export interface TestApp {
  app: Hono<AppEnv>;
  /** Every log line written so far, parsed. */
  logs: () => Record<string, unknown>[];
  /** The raw log output, exactly as written. */
  rawLogs: () => string;
  call: (hook: string, body: unknown, init?: { headers?: Record<string, string>; method?: string }) => Promise<Response>;
}

/** The real app with the real pino logger writing into memory. `config` is raw (validated here). */
export function createTestApp(options: { config?: unknown; keys?: string[]; policies?: Policy[] } = {}): TestApp {
  let output = "";
  const sink = new Writable({
    write(chunk, _encoding, done) {
      output += chunk.toString();
      done();
    },
  });
  const config: Config = parseConfig(options.config ?? {}, "test");
  const app = createApp({
    config,
    apiKeys: options.keys ?? [TEST_KEY],
    logger: createPinoLogger("info", sink),
    ...(options.policies ? { policies: options.policies } : {}),
  });
  return {
    app,
    rawLogs: () => output,
    logs: () =>
      output
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line)),
    call: (hook, body, init = {}) =>
      Promise.resolve(
        app.request(`/hooks/${hook}`, {
          method: init.method ?? "POST",
          headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json", ...init.headers },
          ...(init.method === "GET" || init.method === "HEAD" ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
        }),
      ),
  };
}

/** A registration-after body with the given traits, built on a shipped example. */
export function registration(traits: Record<string, unknown>, flow: Record<string, unknown> = {}, schemaId = "default") {
  const body = loadFixture("registration-after.password-email") as AnyJSON;
  return { ...body, flow: { ...body.flow, ...flow }, identity: { ...body.identity, schema_id: schemaId, traits } } as AnyJSON;
}

// biome-ignore lint/suspicious/noExplicitAny: test bodies are checked by the assertions that read them.
export type AnyJSON = any;

/** A response body as JSON, for assertions. */
export async function bodyOf(res: Response): Promise<AnyJSON> {
  return res.json();
}
