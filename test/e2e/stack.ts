import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, inject } from "vitest";
import { parse, stringify } from "yaml";
import { releaseAtLeast } from "../../src/cli/kratos-version.js";
import { startWranglerDev } from "../worker/wrangler-dev.js";
import { CourierSink } from "./courier-sink.js";
import { KratosClient } from "./kratos-client.js";
import { freePort, type Running, startProcess, waitUntilReady } from "./processes.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Path of the Kratos binary, found or built by test/e2e/global-setup.ts. */
    kratosBin: string;
    /** The release that binary reports (`kratos version`), e.g. `v1.3.1` or `v26.2.0`. */
    kratosVersion: string;
    /** Path of the go-jsonnet command at Kratos's version (src/cli/kratos-binary.ts). */
    goJsonnetBin: string;
  }
}

/**
 * Whether the Kratos under test is `version` or newer (`v1.3.1` < `v25.4.0` < `v26.2.0`): for the
 * tests whose expectation differs between releases, each stating both.
 */
export function kratosAtLeast(version: string): boolean {
  return releaseAtLeast(inject("kratosVersion"), version);
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Kratos runs from kratos/, so the shipped relative file:// URLs resolve as README.md and docs/kratos-wiring.md say. */
export const KRATOS_DIR = join(ROOT, "kratos");
const SHIPPED_CONFIG = join(KRATOS_DIR, "kratos.yml");
const SERVER_ENTRY = join(ROOT, "dist/src/adapters/node.js");

/** The addresses written in the shipped kratos.yml; the suite moves each to a free port. */
const SHIPPED = {
  hooks: "http://127.0.0.1:8787",
  sink: "http://127.0.0.1:4480",
  public: "http://127.0.0.1:4433",
  admin: "http://127.0.0.1:4434",
} as const;

/**
 * The shipped kratos.yml with only its addresses replaced. Each address must occur, so the
 * suite breaks (rather than silently testing something else) if kratos.yml changes shape.
 */
export function renderKratosConfig(addresses: Record<keyof typeof SHIPPED, string>): string {
  let text = readFileSync(SHIPPED_CONFIG, "utf8");
  for (const key of Object.keys(SHIPPED) as (keyof typeof SHIPPED)[]) {
    if (!text.includes(SHIPPED[key])) throw new Error(`kratos.yml no longer contains ${SHIPPED[key]}`);
    text = text.replaceAll(SHIPPED[key], addresses[key]);
  }
  return text;
}

/**
 * Inserts, before each of our web_hooks, a hook that posts Kratos's whole ctx to the sink
 * (`function(ctx) ctx`, answered 204 so the flow goes on unchanged): the suite can then give
 * `kratos-hooks try` exactly the ctx Kratos built.
 */
export function withCtxCapture(text: string, hooksURL: string, sinkURL: string): string {
  const config = parse(text, { merge: true }) as Record<string, unknown>;
  const capture = (hook: string) => ({
    hook: "web_hook",
    config: {
      url: `${sinkURL}/ctx/${hook}`,
      method: "POST",
      body: `base64://${Buffer.from("function(ctx) ctx").toString("base64")}`,
      response: { parse: true },
    },
  });
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) {
        const url: unknown = node[i]?.config?.url;
        if (node[i]?.hook === "web_hook" && typeof url === "string" && url.startsWith(`${hooksURL}/hooks/`)) {
          node.splice(i, 0, capture(url.slice(`${hooksURL}/hooks/`.length)));
        }
      }
    }
    if (node !== null && typeof node === "object") for (const value of Object.values(node)) visit(value);
  };
  visit(config.selfservice);
  return stringify(config, { aliasDuplicateObjects: false });
}

/** Kratos's environment in the suite: the in-memory database, and both APIs on loopback ports. */
export function kratosEnv(publicPort: number, adminPort: number): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DSN: "memory",
    SERVE_PUBLIC_HOST: "127.0.0.1",
    SERVE_PUBLIC_PORT: String(publicPort),
    SERVE_ADMIN_HOST: "127.0.0.1",
    SERVE_ADMIN_PORT: String(adminPort),
  };
}

export interface StackOptions {
  /** Record every ctx Kratos builds for our hooks (see withCtxCapture). */
  captureCtx?: boolean;
  /**
   * Put our gateway in front of Kratos's public API: the service runs with GATEWAY_KRATOS_URL,
   * and Kratos's `serve.public.base_url` is the gateway's URL (the only change to kratos.yml).
   */
  gateway?: boolean;
  /** A test-only script to run in place of our service (same PORT/HOST environment). */
  hooksEntry?: string;
  /** The Kratos binary; default: the one the e2e global setup found or built (outside vitest, pass it). */
  kratosBin?: string;
  /** Node only: write our service's output to this file instead of keeping it in memory (the benchmark). */
  hooksLog?: string;
  /** Changes to the rendered kratos.yml (e.g. Kratos's tracing), made before Kratos starts. */
  editKratos?: (config: Record<string, unknown>) => void;
}

export interface HooksService {
  readonly url: string;
  readonly port: number;
  process: Running;
}

/** Where the gateway listens, when the stack has one. */
interface GatewayPlan {
  /** Kratos's own public address, the gateway's upstream. */
  upstream: string;
  /** Node: the gateway's own port. */
  port: number;
  /** The URL clients call: `http://127.0.0.1:<port>` on Node; on Workers `http://localhost:<the Worker's port>`, the hostname that is the gateway's. */
  url: string;
}

/**
 * Which runtime serves the hooks: `E2E_HOOKS=worker` (`npm run test:e2e:worker`) runs the
 * Worker in `wrangler dev` (local workerd, the development key from .dev.vars) in place of Node.
 */
export const HOOKS_RUNTIME: "node" | "worker" = process.env.E2E_HOOKS === "worker" ? "worker" : "node";

/**
 * Our service on a given port: the compiled Node server (what `npm start` runs), or the Worker.
 * With a gateway, Node opens the gateway's listener too; the Worker serves it on the hostname
 * `localhost` (GATEWAY_HOSTNAMES), on the same port as the hooks.
 */
export async function startHooks(port: number, config: unknown, entry?: string, gateway?: GatewayPlan, logFile?: string): Promise<Running> {
  if (HOOKS_RUNTIME === "worker" && entry === undefined) {
    return startWranglerDev(port, {
      HOOKS_CONFIG: JSON.stringify(config),
      ...(gateway && { GATEWAY_KRATOS_URL: gateway.upstream, GATEWAY_HOSTNAMES: "localhost" }),
    });
  }
  const proc = startProcess("kratos-hooks", process.execPath, [entry ?? SERVER_ENTRY], {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      // The suite stops and restarts our service; no load balancer needs a drain here.
      SHUTDOWN_DRAIN_MS: "0",
      HOOKS_CONFIG: JSON.stringify(config),
      ...(gateway && { GATEWAY_KRATOS_URL: gateway.upstream, GATEWAY_PORT: String(gateway.port) }),
    },
    logFile,
  });
  await waitUntilReady(proc, `http://127.0.0.1:${port}/health`);
  return proc;
}

export interface Stack {
  /** Kratos's own public API (straight to Kratos, past any gateway). */
  kratosPublic: string;
  /** The gateway's URL, which is Kratos's base_url, when the stack has one. */
  gatewayUrl: string | undefined;
  kratosAdmin: string;
  hooks: HooksService;
  sink: CourierSink;
  kratos: Running;
  /** Stops our service (SIGTERM) and resolves when its port is free. */
  stopHooks(): Promise<void>;
  /** Starts our service again on the same port, where kratos.yml points. */
  restartHooks(): Promise<void>;
  /** Kratos log lines (JSON) that show a hook answer Kratos could not read. */
  misreadAnswers(): string[];
  stop(): Promise<void>;
}

/** Log messages Kratos writes when a parse hook's answer is not what it expects (contract §2.2, §3). */
const MISREAD = [/got no validation errors/i, /could not be unmarshal/i, /unable to unmarshal/i, /cannot unmarshal/i];

/**
 * Starts the courier sink, our Node service and a real Kratos (DSN=memory) on free loopback
 * ports, and waits until each is healthy. `stop()` ends all three; an exit handler kills any
 * child left behind if the test process dies first.
 */
export async function startStack(hooksConfig: unknown, options: StackOptions = {}): Promise<Stack> {
  const [hooksPort, publicPort, adminPort, gatewayPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const kratosPublic = `http://127.0.0.1:${publicPort}`;
  const kratosAdmin = `http://127.0.0.1:${adminPort}`;
  const gateway: GatewayPlan | undefined = options.gateway
    ? {
        upstream: kratosPublic,
        port: gatewayPort,
        url: HOOKS_RUNTIME === "worker" ? `http://localhost:${hooksPort}` : `http://127.0.0.1:${gatewayPort}`,
      }
    : undefined;
  const sink = await CourierSink.start();
  const started: { hooks?: Running; kratos?: Running } = {};
  const dir = mkdtempSync(join(tmpdir(), "kratos-hooks-e2e-"));
  const cleanup = async () => {
    await Promise.all([started.kratos?.stop(), started.hooks?.stop()]);
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const hooks: HooksService = {
      url: `http://127.0.0.1:${hooksPort}`,
      port: hooksPort,
      process: await startHooks(hooksPort, hooksConfig, options.hooksEntry, gateway, options.hooksLog),
    };
    started.hooks = hooks.process;
    const configPath = join(dir, "kratos.yml");
    // Behind the gateway, Kratos's base_url (the shipped file's public address) is the gateway's URL.
    const rendered = renderKratosConfig({ hooks: hooks.url, sink: sink.url, public: gateway?.url ?? kratosPublic, admin: kratosAdmin });
    let text = options.captureCtx ? withCtxCapture(rendered, hooks.url, sink.url) : rendered;
    if (options.editKratos !== undefined) {
      const config = parse(text, { merge: true }) as Record<string, unknown>;
      options.editKratos(config);
      text = stringify(config, { aliasDuplicateObjects: false });
    }
    writeFileSync(configPath, text);
    const kratos = startProcess(
      "kratos",
      options.kratosBin ?? inject("kratosBin"),
      ["serve", "--dev", "--watch-courier", "--config", configPath],
      {
        cwd: KRATOS_DIR,
        env: kratosEnv(publicPort, adminPort),
      },
    );
    started.kratos = kratos;
    await waitUntilReady(kratos, `${kratosAdmin}/admin/health/ready`, 60_000);
    return {
      kratosPublic,
      gatewayUrl: gateway?.url,
      kratosAdmin,
      hooks,
      sink,
      kratos,
      misreadAnswers: () =>
        kratos
          .output()
          .split("\n")
          .filter((line) => MISREAD.some((pattern) => pattern.test(line))),
      stopHooks: async () => {
        await hooks.process.stop();
      },
      restartHooks: async () => {
        hooks.process = await startHooks(hooksPort, hooksConfig, options.hooksEntry, gateway, options.hooksLog);
        started.hooks = hooks.process;
      },
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/**
 * The service's configuration in the suite: the defaults (the seed routing rules, disposable
 * domains refused) plus one login rule and one client rule, so the suite can see them refused.
 */
export const E2E_HOOKS_CONFIG = {
  denyRules: {
    login: { metadataPublic: [{ key: "blocked", equals: true }] },
    request: { denyUserAgents: ["^BadBot/"] },
  },
};

/** The service's "hook call" log lines, parsed (one JSON object per line, pino). */
export function hookLog(stack: Stack): Record<string, unknown>[] {
  return stack.hooks.process
    .output()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === "hook call");
}

/**
 * Gives a test file its own stack: started before its first test, stopped after its last. Read
 * `stack`, `kratos` (straight to Kratos) and, with `gateway: true`, `gateway` (a client of the
 * gateway) inside tests: they are set once beforeAll has run.
 */
export function useStack(
  hooksConfig: unknown = E2E_HOOKS_CONFIG,
  options: StackOptions = {},
): { stack: Stack; kratos: KratosClient; readonly gateway: KratosClient } {
  let gateway: KratosClient | undefined;
  const context = {
    get gateway(): KratosClient {
      if (gateway === undefined) throw new Error("this stack has no gateway: useStack(config, { gateway: true })");
      return gateway;
    },
  } as { stack: Stack; kratos: KratosClient; readonly gateway: KratosClient };
  beforeAll(async () => {
    context.stack = await startStack(hooksConfig, options);
    context.kratos = new KratosClient(context.stack.kratosPublic, context.stack.kratosAdmin);
    if (context.stack.gatewayUrl !== undefined) gateway = new KratosClient(context.stack.gatewayUrl, context.stack.kratosAdmin);
  });
  afterAll(async () => {
    await context.stack?.stop();
  });
  return context;
}
