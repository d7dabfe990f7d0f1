// The shield benchmark's driver: the real gateway as a process, simulated clients that talk to
// it over HTTP (one X-Forwarded-For address each, as behind a trusted proxy), and a pool that
// keeps a fixed number of requests in flight.
import { Agent, type IncomingHttpHeaders, request } from "node:http";
import { fileURLToPath } from "node:url";
import { parseConfig } from "../../src/config/parse.js";
import type { Config } from "../../src/config/schema.js";
import { freePort, type Running } from "../e2e/processes.js";
import { startBenchServer } from "./server.js";

export const RESULTS = fileURLToPath(new URL("./results/", import.meta.url));
const BENCH_KEY = "bench-key-0123456789abcdef";
const SHIELD_SECRET = "bench-shield-secret-0123456789abcdef";
/** kratos.yml's ui_urls, the stand-in's defaults: where a refused form post is sent back to. */
export const UI = "http://127.0.0.1:3000";
/** The device marker as a native app sends it back, and the cookie a browser keeps it in (src/gateway/shield/rule.ts). */
export const DEVICE_HEADER = "kratos-hooks-device";
export const DEVICE_COOKIE = "kratos_hooks_device";
/** The shield's message ids (src/core/messages.ts: SHIELD_*). */
const SHIELD_IDS = { min: 4100400, max: 4100499 };

export type ShieldMode = "off" | "memory" | "redis";

/**
 * The service's configuration in the bench: national numbers read with Cloudflare's country
 * header, the client address from X-Forwarded-For, and the shield on its defaults but for the
 * global SMS budget per minute: the bench compresses an hour of traffic into seconds, so a
 * per-minute budget would measure the compression, not the shield.
 */
export function benchConfig(shield: boolean): Record<string, unknown> {
  return {
    normalizePhone: { regionHeader: "Cf-Ipcountry" },
    gateway: {
      trustForwardedHeaders: true,
      shield: {
        enabled: shield,
        uiUrls: { login: `${UI}/login`, registration: `${UI}/registration` },
        sms: { perMinute: 1_000_000 },
      },
    },
  };
}

/** The configuration as the service reads it, defaults filled in (the thresholds the targets are stated in). */
export function effectiveConfig(): Config {
  return parseConfig(benchConfig(true), "bench");
}

export interface Gateway {
  url: string;
  mode: ShieldMode;
  process: Running;
  stop(): Promise<void>;
}

/** The gateway as `npm start` runs it, but from source (`tsx src/adapters/node.ts`), in front of `kratosUrl`. */
export async function startGateway(kratosUrl: string, mode: ShieldMode, redisUrl?: string, label: string = mode): Promise<Gateway> {
  const [port, gatewayPort] = [await freePort(), await freePort()];
  const env: Record<string, string> = {
    NODE_ENV: "production",
    HOOKS_API_KEYS: BENCH_KEY,
    LOG_LEVEL: "info",
    HOST: "127.0.0.1",
    PORT: String(port),
    GATEWAY_PORT: String(gatewayPort),
    GATEWAY_KRATOS_URL: kratosUrl,
    HOOKS_CONFIG: JSON.stringify(benchConfig(mode !== "off")),
    GATEWAY_SHIELD_SECRET: SHIELD_SECRET,
    ...(mode === "redis" && redisUrl !== undefined && { GATEWAY_SHIELD_REDIS_URL: redisUrl }),
  };
  const url = `http://127.0.0.1:${gatewayPort}`;
  const proc = await startBenchServer(
    `gateway (${label})`,
    ["--import", "tsx", "src/adapters/node.ts"],
    env,
    `${RESULTS}shield-${label}.log`,
    `${url}/health/alive`,
  );
  return { url, mode, process: proc, stop: async () => void (await proc.stop()) };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Milliseconds from sending to the last byte. */
  ms: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** One HTTP request on a shared keep-alive pool. */
export function send(method: string, url: string, headers: Record<string, string>, body?: string): Promise<Reply> {
  const target = new URL(url);
  const all = body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request(
      { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method, headers: all, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
            ms: Number(process.hrtime.bigint() - started) / 1e6,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Runs the tasks with at most `concurrency` of them at a time, in the order given. */
export async function pool(tasks: readonly (() => Promise<void>)[], concurrency: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++] as () => Promise<void>;
      await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
}

/** A seeded PRNG (mulberry32): the same traffic on every run and in every mode. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(items: T[], rng: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/** What a submit came to, from the client's side. */
export interface Result {
  status: number;
  /** The shield refused it (a message of its block, or its 429 without a flow). */
  refused: boolean;
  /** The shield's reason, when it said one. */
  reason?: string;
  signedIn: boolean;
  /** Kratos's `state` on the flow answered (sent_email: a code went out). */
  state?: string;
  messages: number[];
}

function parse(body: string): Record<string, unknown> {
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function resultOf(reply: Reply): Result {
  const body = parse(reply.body);
  const ui = body.ui as { messages?: { id: number; context?: { reason?: string } }[] } | undefined;
  const messages = ui?.messages ?? [];
  const ours = messages.find((m) => m.id >= SHIELD_IDS.min && m.id <= SHIELD_IDS.max);
  const error = body.error as { reason?: string } | undefined;
  const refused = ours !== undefined || reply.status === 429;
  return {
    status: reply.status,
    refused,
    ...(refused && { reason: ours?.context?.reason ?? error?.reason ?? String(reply.status) }),
    signedIn: reply.status === 200 && body.session !== undefined,
    ...(typeof body.state === "string" && { state: body.state }),
    messages: messages.map((m) => m.id),
  };
}

/** A simulated client: its address, the device marker the gateway gave it, and (browsers) its cookies. */
export class Client {
  device: string | undefined;
  private readonly cookies = new Map<string, string>();

  constructor(
    readonly gateway: string,
    readonly address: string,
    readonly browser = false,
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { accept: "application/json", "x-forwarded-for": this.address, ...extra };
    if (this.browser && this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    if (!this.browser && this.device !== undefined) headers[DEVICE_HEADER] = this.device;
    return headers;
  }

  private keep(reply: Reply): void {
    const marker = reply.headers[DEVICE_HEADER];
    if (typeof marker === "string") this.device = marker;
    for (const line of reply.headers["set-cookie"] ?? []) {
      const pair = line.slice(0, line.indexOf(";") < 0 ? undefined : line.indexOf(";"));
      const eq = pair.indexOf("=");
      this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
      if (pair.slice(0, eq) === DEVICE_COOKIE) this.device = pair.slice(eq + 1);
    }
  }

  /** Signs out as a browser does: the session cookie goes, the CSRF cookie and the device marker stay. */
  logout(): void {
    this.cookies.delete("ory_kratos_session");
  }

  /**
   * A browser's first page load, which sets its CSRF cookie: before it, flows created at once
   * would each set a cookie of their own and all but the last fail Kratos's CSRF check.
   */
  private primed: Promise<void> | undefined;

  /** Creates a flow (`query` e.g. `?identity_schema=phone`): its id and CSRF token. */
  async flow(kind: "login" | "registration", query = ""): Promise<{ id: string; csrf: string }> {
    if (this.browser) {
      this.primed ??= send("GET", `${this.gateway}/self-service/${kind}/browser${query}`, this.headers()).then((reply) => this.keep(reply));
      await this.primed;
    }
    const reply = await send("GET", `${this.gateway}/self-service/${kind}/${this.browser ? "browser" : "api"}${query}`, this.headers());
    this.keep(reply);
    const body = parse(reply.body) as { id?: string; ui?: { nodes?: { attributes: { name?: string; value?: string } }[] } };
    if (reply.status !== 200 || body.id === undefined)
      throw new Error(`creating a ${kind} flow answered ${reply.status}: ${reply.body.slice(0, 200)}`);
    const csrf = body.ui?.nodes?.find((n) => n.attributes.name === "csrf_token")?.attributes.value ?? "";
    return { id: body.id, csrf };
  }

  /** Submits `payload` as JSON to a new flow (`headers`: e.g. the region header); resolves with what it came to. */
  async submit(
    kind: "login" | "registration",
    payload: Record<string, unknown>,
    options: { headers?: Record<string, string>; query?: string } = {},
  ): Promise<Result & { ms: number }> {
    const flow = await this.flow(kind, options.query);
    return this.submitTo(kind, flow, payload, options.headers);
  }

  async submitTo(
    kind: "login" | "registration",
    flow: { id: string; csrf: string },
    payload: Record<string, unknown>,
    headers: Record<string, string> = {},
  ): Promise<Result & { ms: number }> {
    const body = JSON.stringify(this.browser ? { ...payload, csrf_token: flow.csrf } : payload);
    const reply = await send(
      "POST",
      `${this.gateway}/self-service/${kind}?flow=${flow.id}`,
      this.headers({ "content-type": "application/json", ...headers }),
      body,
    );
    this.keep(reply);
    return { ...resultOf(reply), ms: reply.ms };
  }
}
