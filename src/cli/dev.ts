import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_GATEWAY_PORT, DEFAULT_HOOKS_PORT } from "../config/node-settings.js";
import { CourierSink, formatMessage } from "./courier-sink.js";
import {
  chooseDevKratosConfig,
  type DevKratosConfig,
  missingTsx,
  parseDevEntry,
  probeFile,
  resolveTsx,
  type TsxCli,
  toDevKratosConfig,
} from "./dev-entry.js";
import type { EntryEvents } from "./dev-entry-events.js";
import { followRestarts, startEntry } from "./dev-entry-run.js";
import { type Child, signalGroup, startChild, stopChild, tail, waitReady } from "./dev-processes.js";
import {
  type KratosBinary,
  KratosToolchainError,
  KratosUnavailableError,
  kratosBinaryVersion,
  resolveKratos,
  resolveKratosVersion,
  TESTED_KRATOS_VERSIONS,
  type TestedKratosVersion,
} from "./kratos-binary.js";
import { featuresOf, formatJudgedKratos, type JudgedKratos, toJudgedKratos, VERSION_FLAG } from "./kratos-version.js";
import { displayPath, PACKAGE_ROOT, UsageError } from "./usage.js";

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
type PortName = keyof typeof DEV_PORTS;

/** The flag that sets each port, for messages. */
const FLAG: Record<PortName, string> = {
  hooks: "--hooks-port",
  gateway: "--gateway-port",
  public: "--public-port",
  admin: "--admin-port",
  sink: "--sink-port",
};

const HOST = "127.0.0.1";

export interface DevArgs {
  hooksPort?: string;
  gatewayPort?: string;
  publicPort?: string;
  adminPort?: string;
  sinkPort?: string;
  /** `memory` (default), a Kratos DSN (`sqlite://…`, `postgres://…`), or a file path for SQLite. */
  dsn?: string | undefined;
  /** `--kratos-version`: the tested release to run; with KRATOS_BIN, the release that binary must report. */
  kratosVersion?: string | undefined;
  /** `--entry`: your service (it calls `serve()` from kratos-hooks/node), run with `tsx watch` instead of ours. */
  entry?: string | undefined;
  /** `--config`: your kratos.yml instead of the shipped one (with --entry: ./kratos/kratos.yml when there is one). */
  config?: string | undefined;
}

export interface DevIO {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Highlight codes in color (stdout is a terminal). */
  color?: boolean;
  /** Stops the stack as SIGINT does (tests); without it, `dev` listens for SIGINT and SIGTERM. */
  signal?: AbortSignal;
}

function port(name: PortName, value: string | undefined): number {
  if (value === undefined) return DEV_PORTS[name];
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw new UsageError(`${FLAG[name]} must be a port number (1-65535), got "${value}"`);
  return n;
}

/** A Kratos DSN: `memory` as is, a URL-like DSN as is, anything else a SQLite file. */
export function kratosDsn(dsn: string | undefined): string {
  if (dsn === undefined || dsn === "memory") return "memory";
  if (/^[a-z0-9]+:\/\//i.test(dsn)) return dsn;
  return `sqlite://${resolve(dsn)}?_fk=true`;
}

async function portIsFree(portNumber: number): Promise<boolean> {
  const server = createServer();
  server.listen(portNumber, HOST);
  try {
    await Promise.race([
      once(server, "listening"),
      once(server, "error").then(([error]) => {
        throw error;
      }),
    ]);
  } catch {
    return false;
  }
  server.close();
  await once(server, "close");
  return true;
}

/** The Node server `npm start` runs: dist/src/adapters/node.js (the CLI starts it, never imports it). */
function serverEntry(): string {
  const beside = fileURLToPath(new URL("../adapters/node.js", import.meta.url));
  return existsSync(beside) ? beside : join(PACKAGE_ROOT, "dist", "src", "adapters", "node.js");
}

/**
 * The Kratos `dev` runs: KRATOS_BIN if set, else the tested release `--kratos-version` names,
 * else v1.3.1 from the cache or a build. Its release is what `kratos version` reports; with
 * `--kratos-version`, the binary must report that release (or none, for a build without one).
 */
export function resolveDevKratos(
  flag: string | undefined,
  log: (line: string) => void,
  report: (path: string) => string | undefined = kratosBinaryVersion,
): { binary: KratosBinary; judged: JudgedKratos } {
  const wanted = flag === undefined ? undefined : toJudgedKratos(flag, "flag", VERSION_FLAG);
  let binary: KratosBinary;
  // resolveKratos reads KRATOS_BIN from the process's environment, as here.
  if (process.env.KRATOS_BIN || wanted === undefined) binary = resolveKratos(log);
  else if ((TESTED_KRATOS_VERSIONS as readonly string[]).includes(wanted.version)) {
    binary = resolveKratosVersion(wanted.version as TestedKratosVersion, log);
  } else {
    throw new UsageError(
      `${VERSION_FLAG} ${wanted.version}: dev runs the tested releases (${TESTED_KRATOS_VERSIONS.join(", ")}); for another, set KRATOS_BIN to its binary`,
    );
  }
  const from = `\`kratos version\` of ${binary.path}`;
  const reported = report(binary.path);
  if (wanted === undefined) {
    if (reported === undefined) {
      throw new UsageError(`${binary.path} does not say which Kratos release it is (\`kratos version\`): pass ${VERSION_FLAG} <release>`);
    }
    return { binary, judged: toJudgedKratos(reported, "binary", from) };
  }
  let judged: JudgedKratos | undefined;
  try {
    judged = reported === undefined ? undefined : toJudgedKratos(reported, "binary", from);
  } catch {
    // A build without a release (`master`): the flag says which release it is.
  }
  if (judged === undefined) {
    const note = `${binary.path} reports ${reported === undefined ? "no release" : `"${reported}"`}`;
    return { binary, judged: { ...wanted, note: wanted.note === undefined ? note : `${wanted.note}; ${note}` } };
  }
  if (judged.version !== wanted.version) {
    throw new UsageError(`${VERSION_FLAG} ${wanted.version}, but ${binary.path} reports ${judged.version} (\`kratos version\`)`);
  }
  return { binary, judged };
}

/** What the banner says beyond the URLs: whose service runs, and which kratos.yml Kratos reads. */
export interface DevSetup {
  /** `--entry`: the entry and the tsx that runs it. */
  entry?: { file: string; tsx: TsxCli } | undefined;
  /** The kratos.yml chosen, the file Kratos reads (a copy when dev changed something) and what changed. */
  kratosConfig?: { chosen: DevKratosConfig; runs: string; changes: readonly string[] } | undefined;
  /** The Kratos config sends its SMS and email somewhere other than the sink (its own courier). */
  courierElsewhere?: boolean;
}

const CONFIG_SOURCE = {
  "--config": "yours, --config",
  project: "your project's ./kratos/kratos.yml",
  shipped: "the one kratos-hooks ships",
} as const;

function setupLines(setup: DevSetup): string {
  const lines: string[] = [];
  if (setup.entry !== undefined) {
    const { file, tsx } = setup.entry;
    const from = tsx.from === "project" ? "your project's" : "kratos-hooks's";
    lines.push(
      `  your service   ${displayPath(file)}   (the hooks and the gateway; tsx ${tsx.version} watch, ${from}, reruns it on a change)`,
    );
  }
  if (setup.kratosConfig !== undefined) {
    const { chosen, runs, changes } = setup.kratosConfig;
    lines.push(`  kratos config  ${displayPath(chosen.file)}   (${CONFIG_SOURCE[chosen.source]}; Kratos runs in its folder)`);
    lines.push(
      changes.length === 0
        ? "                 used as is; dev sets only serve.public/admin (host, port, base_url) and the DSN, in Kratos's environment"
        : `                 dev moved ${changes.join(", ")} in a copy (${runs}),\n                 and sets serve.public/admin (host, port, base_url) and the DSN in Kratos's environment`,
    );
  }
  return lines.map((line) => `${line}\n`).join("");
}

/** The URLs and the copy-paste native registration and login through the gateway. */
export function devBanner(
  urls: { gateway: string; hooks: string; public: string; admin: string; sink: string },
  dsn: string,
  logs: string,
  kratos: JudgedKratos,
  setup: DevSetup = {},
): string {
  const phone = "0176 1234 5678";
  const password = "correct horse battery staple 42";
  const region = `"transient_payload":{"phone_region":"DE"}`;
  const g = urls.gateway;
  const yours = setup.entry !== undefined;
  return `
kratos-hooks dev: the local stack is up (Ctrl-C stops it all)

  gateway        ${g}   ← clients call this (Kratos's public API, ${yours ? "your gateway rules, " : ""}phone numbers to E.164)
  hooks          ${urls.hooks}   (Kratos's web_hooks${yours ? ": your policies" : ""}, development key unless HOOKS_API_KEYS)
${setupLines(setup)}  kratos public  ${urls.public}   (only the gateway calls it)
  kratos admin   ${urls.admin}
  kratos         ${formatJudgedKratos(kratos)}
  courier sink   ${urls.sink}   (${setup.courierElsewhere === true ? "unused: your kratos.yml's courier sends SMS and email elsewhere, for real" : "SMS and email are printed below"})
  database       ${dsn}
  logs           ${logs}

Register with a national number, then log in (native API flows through the gateway${yours ? ", Kratos calls your hooks" : ""}; needs curl and jq):

  flow=$(curl -s ${g}/self-service/registration/api | jq -r .id)
  curl -s -X POST "${g}/self-service/registration?flow=$flow" -H 'Content-Type: application/json' \\
    -d '{"method":"password","password":"${password}","traits":{"phone":"${phone}"},${region}}' | jq ${yours ? "'.identity | {traits, metadata_public}'" : ".identity.traits"}

  flow=$(curl -s ${g}/self-service/login/api | jq -r .id)
  curl -s -X POST "${g}/self-service/login?flow=$flow" -H 'Content-Type: application/json' \\
    -d '{"method":"password","identifier":"${phone}","password":"${password}",${region}}' | jq .session_token

${phoneOnlySignUp(g, region, kratos)}
`;
}

/**
 * Phone-only sign-up by SMS code (Kratos v25.4+): the flow on the `phone` schema, the number and
 * its region, then the code the sink prints. Earlier releases get a line saying what they need.
 */
function phoneOnlySignUp(g: string, region: string, kratos: JudgedKratos): string {
  if (!featuresOf(kratos).phoneCodeSignUp) {
    return `Phone-only sign-up by SMS code needs Kratos v25.4+ (${VERSION_FLAG} v26.2.0).
`;
  }
  const signUp = (extra: string) =>
    `curl -s -X POST "${g}/self-service/registration?flow=$flow" -H 'Content-Type: application/json' \\
    -d '{"method":"code",${extra}"traits":{"phone":"0176 1234 5679"},${region}}'`;
  return `Phone-only sign-up by SMS code (Kratos v25.4+; the code is printed below as the SMS arrives):

  flow=$(curl -s "${g}/self-service/registration/api?identity_schema=phone" | jq -r .id)
  ${signUp("")} | jq .state
  ${signUp('"code":"<the code>",')} | jq .identity.traits
`;
}

/** How `dev` runs the hooks and the gateway: our server, or your entry through tsx watch. */
type Service = { kind: "ours"; server: string } | { kind: "entry"; entry: string; tsx: TsxCli; probe: string };
/**
 * `kratos-hooks dev`: Kratos (built or found), our service with its gateway (`npm start`'s
 * server, as a child process) or yours (`entry`, through `tsx watch`), and a courier sink that
 * prints every SMS and email, on the usual ports or the ones given. Runs until SIGINT, SIGTERM or
 * SIGHUP (or `io.signal`), then stops every child's process group. Returns 0 after a requested
 * stop, 1 when something failed or a child died.
 */
export async function devCommand(args: DevArgs, io: DevIO, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const ports = {
    hooks: port("hooks", args.hooksPort),
    gateway: port("gateway", args.gatewayPort),
    public: port("public", args.publicPort),
    admin: port("admin", args.adminPort),
    sink: port("sink", args.sinkPort),
  };
  const names = Object.keys(ports) as PortName[];
  for (const [i, a] of names.entries()) {
    for (const b of names.slice(i + 1)) {
      if (ports[a] === ports[b]) throw new UsageError(`${FLAG[a]} and ${FLAG[b]} are both ${ports[a]}; give each its own port`);
    }
  }
  const dsn = kratosDsn(args.dsn);
  // A release that names nothing is a usage error before anything is checked or started.
  if (args.kratosVersion !== undefined) toJudgedKratos(args.kratosVersion, "flag", VERSION_FLAG);
  const entry = args.entry === undefined ? undefined : parseDevEntry(args.entry);
  const chosenConfig = chooseDevKratosConfig({ config: args.config, entry });

  let service: Service;
  if (entry === undefined) {
    service = { kind: "ours", server: serverEntry() };
    if (!existsSync(service.server)) {
      io.err(`kratos-hooks dev: the server is not built (${service.server}); run \`npm run build\` first\n`);
      return 1;
    }
  } else {
    const tsx = resolveTsx(dirname(entry));
    if (tsx === undefined) {
      io.err(`kratos-hooks dev: ${missingTsx(entry)}\n`);
      return 1;
    }
    service = { kind: "entry", entry, tsx, probe: probeFile() };
    if (!existsSync(service.probe)) {
      io.err(`kratos-hooks dev: kratos-hooks is not built (${service.probe}); run \`npm run build\` first\n`);
      return 1;
    }
  }
  for (const name of names) {
    if (!(await portIsFree(ports[name]))) {
      io.err(`kratos-hooks dev: port ${ports[name]} on ${HOST} is in use; stop what listens there or pick another with ${FLAG[name]}\n`);
      return 1;
    }
  }

  let kratosBin: string;
  let judged: JudgedKratos;
  try {
    const found = resolveDevKratos(args.kratosVersion, (line) => io.err(`${line}\n`));
    kratosBin = found.binary.path;
    judged = found.judged;
    const note = judged.note === undefined ? "" : `; ${judged.note}`;
    io.err(`Kratos ${judged.version}: ${kratosBin}${found.binary.source === "KRATOS_BIN" ? " (KRATOS_BIN)" : ""}${note}\n`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // Classified by type: a missing toolchain, or no usable binary (KRATOS_BIN, KRATOS_BIN_V…, the cache).
    if (!(error instanceof KratosToolchainError || error instanceof KratosUnavailableError)) throw error;
    io.err(`kratos-hooks dev: ${(error as Error).message}\n`);
    return 1;
  }

  const urls = {
    hooks: `http://${HOST}:${ports.hooks}`,
    gateway: `http://${HOST}:${ports.gateway}`,
    public: `http://${HOST}:${ports.public}`,
    admin: `http://${HOST}:${ports.admin}`,
    sink: `http://${HOST}:${ports.sink}`,
  };
  const dir = mkdtempSync(join(tmpdir(), "kratos-hooks-dev-"));
  const children: Child[] = [];
  // Should this process die without stopping them (an uncaught error), the children go too.
  const killAll = () => {
    for (const c of children) signalGroup(c.child, "SIGKILL");
  };
  process.once("exit", killAll);

  const stopRequested = new AbortController();
  const onSignal = () => stopRequested.abort();
  if (io.signal === undefined) {
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    process.once("SIGHUP", onSignal);
  } else if (io.signal.aborted) stopRequested.abort();
  else io.signal.addEventListener("abort", onSignal, { once: true });

  let sink: CourierSink | undefined;
  let unfollow: (() => void) | undefined;
  let exitCode = 0;
  try {
    sink = await CourierSink.start({ port: ports.sink, host: HOST, onMessage: (m) => io.out(`${formatMessage(m, io.color)}\n`) });

    // The hooks and the gateway: `npm start`'s server or your entry (both serve() from
    // kratos-hooks/node), with the same environment (HOOKS_CONFIG_FILE, HOOKS_CONFIG,
    // HOOKS_API_KEYS, LOG_LEVEL…), on our ports, in front of this Kratos.
    const serviceEnv: NodeJS.ProcessEnv = {
      ...env,
      SHUTDOWN_DRAIN_MS: env.SHUTDOWN_DRAIN_MS ?? "0",
      PORT: String(ports.hooks),
      HOST,
      GATEWAY_KRATOS_URL: urls.public,
      GATEWAY_PORT: String(ports.gateway),
    };
    let events: EntryEvents | undefined;
    let hooks: Child;
    if (service.kind === "ours") {
      hooks = startChild("the hooks service", process.execPath, [service.server], { env: serviceEnv, log: join(dir, "hooks.log") });
    } else {
      ({ child: hooks, events } = startEntry(service, serviceEnv, dir));
    }
    children.push(hooks);
    await waitReady(hooks, `${urls.hooks}/health`, service.kind === "ours" ? 20_000 : 30_000, stopRequested.signal);

    // The kratos.yml chosen, with only the hooks' and the sink's shipped addresses moved (in a
    // copy, when a port flag moves them); serve.* and the DSN by Kratos's env overrides.
    const moved = toDevKratosConfig(chosenConfig.text, urls);
    let configPath = chosenConfig.file;
    if (moved.changes.length > 0) {
      configPath = join(dir, "kratos.yml");
      writeFileSync(configPath, moved.text);
    }
    const courierElsewhere = !moved.text.includes(urls.sink);
    if (courierElsewhere) {
      io.err(
        `kratos-hooks dev: warning: ${displayPath(chosenConfig.file)} sends no SMS or email to ${urls.sink}, where dev prints them; its own courier sends them, for real\n`,
      );
    }
    if (!moved.text.includes(urls.hooks)) {
      io.err(
        `kratos-hooks dev: warning: ${displayPath(chosenConfig.file)} has no web_hook calling ${urls.hooks}, where dev runs the hooks; Kratos will not ask them\n`,
      );
    }
    const kratosEnv: NodeJS.ProcessEnv = {
      PATH: env.PATH,
      HOME: env.HOME,
      ...(env.TMPDIR !== undefined && { TMPDIR: env.TMPDIR }),
      DSN: dsn,
      SERVE_PUBLIC_HOST: HOST,
      SERVE_PUBLIC_PORT: String(ports.public),
      SERVE_PUBLIC_BASE_URL: `${urls.gateway}/`,
      SERVE_ADMIN_HOST: HOST,
      SERVE_ADMIN_PORT: String(ports.admin),
      SERVE_ADMIN_BASE_URL: `${urls.admin}/`,
    };
    // Relative file:// URLs in kratos.yml resolve from Kratos's working directory: the folder of
    // the kratos.yml chosen (kratos/ for the shipped one and for `init`'s), wherever its copy is.
    const kratosDir = dirname(chosenConfig.file);
    if (dsn !== "memory") {
      const migrate = spawnSync(kratosBin, ["migrate", "sql", "-e", "--yes", "--config", configPath], {
        cwd: kratosDir,
        env: kratosEnv,
        encoding: "utf8",
      });
      if (migrate.status !== 0) throw new Error(`kratos migrate sql failed for ${dsn}:\n${migrate.stderr || migrate.stdout}`);
    }
    const kratos = startChild("Kratos", kratosBin, ["serve", "--dev", "--watch-courier", "--config", configPath], {
      cwd: kratosDir,
      env: kratosEnv,
      log: join(dir, "kratos.log"),
    });
    children.push(kratos);
    await waitReady(kratos, `${urls.admin}/admin/health/ready`, 60_000, stopRequested.signal);
    await waitReady(hooks, `${urls.gateway}/health/ready`, 10_000, stopRequested.signal);

    const setup: DevSetup = {
      entry: service.kind === "entry" ? { file: service.entry, tsx: service.tsx } : undefined,
      kratosConfig: { chosen: chosenConfig, runs: configPath, changes: moved.changes },
      courierElsewhere,
    };
    io.out(devBanner(urls, dsn, dir, judged, setup));
    io.out(`kratos-hooks dev: ready\n`);
    if (events !== undefined) unfollow = followRestarts(hooks, events, urls, io, stopRequested.signal);

    const died = await Promise.race([
      once(stopRequested.signal, "abort").then(() => undefined),
      ...children.map((c) => c.exited.then(() => c)),
    ]);
    if (died !== undefined) {
      io.err(`kratos-hooks dev: ${died.name} stopped unexpectedly; its log (${died.log}):\n${tail(died.log)}\n`);
      exitCode = 1;
    }
  } catch (error) {
    if (!stopRequested.signal.aborted) {
      io.err(`kratos-hooks dev: ${(error as Error).message}\n`);
      exitCode = 1;
    }
  } finally {
    unfollow?.();
    io.err("kratos-hooks dev: stopping…\n");
    await Promise.all(children.map((c) => stopChild(c)));
    await sink?.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("SIGHUP", onSignal);
    io.signal?.removeEventListener("abort", onSignal);
    process.off("exit", killAll);
    io.err(`kratos-hooks dev: stopped (logs kept in ${dir})\n`);
  }
  return exitCode;
}
