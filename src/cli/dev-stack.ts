import { once } from "node:events";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { DEFAULT_GATEWAY_PORT, DEFAULT_HOOKS_PORT } from "../config/node-settings.js";
import { UsageError } from "./usage.js";

// The local stack `kratos-hooks dev` runs, as addresses: every port and URL of it is computed
// here, from the flags and the server's own defaults, and nowhere else.

/** Everything dev starts listens on loopback only. */
export const DEV_HOST = "127.0.0.1";

/**
 * The ports of the local stack: the usual ones (kratos/kratos.yml, README), each a flag. The hooks
 * and the gateway take the server's own defaults; Kratos's public and admin ports are Kratos's, the
 * sink's is dev's.
 */
export const DEV_PORTS = {
  hooks: DEFAULT_HOOKS_PORT,
  gateway: DEFAULT_GATEWAY_PORT,
  public: 4433,
  admin: 4434,
  sink: 4480,
} as const;
export type DevPortName = keyof typeof DEV_PORTS;

/** The flag that sets each port, for messages. */
export const PORT_FLAG: Record<DevPortName, string> = {
  hooks: "--hooks-port",
  gateway: "--gateway-port",
  public: "--public-port",
  admin: "--admin-port",
  sink: "--sink-port",
};

/** `http://127.0.0.1:<port>`, as dev and the shipped kratos.yml write its addresses. */
function devUrl(port: number): string {
  return `http://${DEV_HOST}:${port}`;
}

/** The base URL of each part of the stack. */
export type DevUrls = Record<DevPortName, string>;

/** The stack's ports and URLs, as the flags give them. */
export interface DevStack {
  ports: Record<DevPortName, number>;
  urls: DevUrls;
}

/** The port flags of `dev`, as given (strings, unparsed). */
export type DevPortArgs = Partial<Record<`${DevPortName}Port`, string | undefined>>;

function port(name: DevPortName, value: string | undefined): number {
  if (value === undefined) return DEV_PORTS[name];
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535)
    throw new UsageError(`${PORT_FLAG[name]} must be a port number (1-65535), got "${value}"`);
  return n;
}

/** The stack the flags describe; a port that is not one, or two parts on one port, is a usage error. */
export function devStack(args: DevPortArgs): DevStack {
  const ports = {
    hooks: port("hooks", args.hooksPort),
    gateway: port("gateway", args.gatewayPort),
    public: port("public", args.publicPort),
    admin: port("admin", args.adminPort),
    sink: port("sink", args.sinkPort),
  };
  const names = Object.keys(ports) as DevPortName[];
  for (const [i, a] of names.entries()) {
    for (const b of names.slice(i + 1)) {
      if (ports[a] === ports[b]) throw new UsageError(`${PORT_FLAG[a]} and ${PORT_FLAG[b]} are both ${ports[a]}; give each its own port`);
    }
  }
  const urls = {
    hooks: devUrl(ports.hooks),
    gateway: devUrl(ports.gateway),
    public: devUrl(ports.public),
    admin: devUrl(ports.admin),
    sink: devUrl(ports.sink),
  };
  return { ports, urls };
}

/** The stack on its default ports: where the shipped kratos.yml and the docs expect each part. */
export const DEFAULT_DEV_URLS: DevUrls = devStack({}).urls;

/**
 * The addresses the shipped kratos.yml (and `init`'s copy of it) sends hooks and messages to: the
 * defaults, which dev moves in a copy when a flag moves them.
 */
export const SHIPPED_ADDRESSES = { hooks: DEFAULT_DEV_URLS.hooks, sink: DEFAULT_DEV_URLS.sink } as const;

/** Where dev waits for each part to be ready. */
export function readinessUrls(urls: DevUrls): { hooks: string; gateway: string; kratos: string } {
  return { hooks: `${urls.hooks}/health`, gateway: `${urls.gateway}/health/ready`, kratos: `${urls.admin}/admin/health/ready` };
}

/** A Kratos DSN: `memory` as is, a URL-like DSN as is, anything else a SQLite file. */
export function kratosDsn(dsn: string | undefined): string {
  if (dsn === undefined || dsn === "memory") return "memory";
  if (/^[a-z0-9]+:\/\//i.test(dsn)) return dsn;
  return `sqlite://${resolve(dsn)}?_fk=true`;
}

/**
 * The environment of the hooks and the gateway (our server or your entry, both serve() from
 * kratos-hooks/node): the caller's (HOOKS_CONFIG_FILE, HOOKS_CONFIG, HOOKS_API_KEYS, LOG_LEVEL…),
 * on the stack's ports, in front of its Kratos.
 */
export function serviceEnv(stack: DevStack, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...env,
    SHUTDOWN_DRAIN_MS: env.SHUTDOWN_DRAIN_MS ?? "0",
    PORT: String(stack.ports.hooks),
    HOST: DEV_HOST,
    GATEWAY_KRATOS_URL: stack.urls.public,
    GATEWAY_PORT: String(stack.ports.gateway),
  };
}

/**
 * Kratos's environment: only what it needs of the caller's, the DSN, and serve.public/admin
 * (which outrank kratos.yml). Its public base URL is the gateway's: clients call the gateway.
 */
export function kratosEnv(stack: DevStack, dsn: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    PATH: env.PATH,
    HOME: env.HOME,
    ...(env.TMPDIR !== undefined && { TMPDIR: env.TMPDIR }),
    DSN: dsn,
    SERVE_PUBLIC_HOST: DEV_HOST,
    SERVE_PUBLIC_PORT: String(stack.ports.public),
    SERVE_PUBLIC_BASE_URL: `${stack.urls.gateway}/`,
    SERVE_ADMIN_HOST: DEV_HOST,
    SERVE_ADMIN_PORT: String(stack.ports.admin),
    SERVE_ADMIN_BASE_URL: `${stack.urls.admin}/`,
  };
}

/**
 * Why nothing can listen on `portNumber` on the dev host now (the listen error's code, `EADDRINUSE`
 * when something already does), or undefined when the port is free.
 */
async function portProblem(portNumber: number): Promise<string | undefined> {
  const server = createServer();
  server.listen(portNumber, DEV_HOST);
  try {
    await Promise.race([
      once(server, "listening"),
      once(server, "error").then(([error]) => {
        throw error;
      }),
    ]);
  } catch (error) {
    // Any listen error means dev cannot use the port; its code says why, the caller which flag moves it.
    return (error as NodeJS.ErrnoException).code ?? "EUNKNOWN";
  }
  server.close();
  await once(server, "close");
  return undefined;
}

/** A port of the stack dev cannot listen on, and why. */
export interface PortProblem {
  name: DevPortName;
  /** The listen error's code: `EADDRINUSE`, `EACCES`, … */
  code: string;
}

/** The first part of the stack whose port cannot be used, in flag order, or undefined when all are free. */
export async function takenPort(stack: DevStack): Promise<PortProblem | undefined> {
  for (const name of Object.keys(stack.ports) as DevPortName[]) {
    const code = await portProblem(stack.ports[name]);
    if (code !== undefined) return { name, code };
  }
  return undefined;
}
