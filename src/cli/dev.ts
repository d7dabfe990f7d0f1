import { chooseDevKratosConfig, parseDevEntry } from "./dev-entry.js";
import { findDevKratos } from "./dev-kratos.js";
import { type DevIO, type DevPlan, runDevStack } from "./dev-run.js";
import { chooseDevService, DevStartError } from "./dev-service.js";
import { DEV_HOST, type DevStack, devStack, kratosDsn, PORT_FLAG, takenPort } from "./dev-stack.js";
import { KratosToolchainError, KratosUnavailableError } from "./kratos-binary.js";
import { toJudgedKratos, VERSION_FLAG } from "./kratos-version.js";

// `kratos-hooks dev`: the command. Its stack's addresses are dev-stack.ts's, its banner
// dev-banner.ts's, its Kratos dev-kratos.ts's, its service dev-service.ts's, the run dev-run.ts's.

export { type DevSetup, devBanner } from "./dev-banner.js";
export { resolveDevKratos } from "./dev-kratos.js";
export type { DevIO } from "./dev-run.js";
export { DEV_PORTS, kratosDsn } from "./dev-stack.js";

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

/** The plan's service, free ports and Kratos binary; a missing one throws DevStartError or a Kratos error. */
async function findWhatRuns(
  stack: DevStack,
  wanted: { entry: string | undefined; kratosVersion: string | undefined },
  err: (text: string) => void,
): Promise<Omit<DevPlan, "dsn" | "config">> {
  const service = chooseDevService(wanted.entry);
  const taken = await takenPort(stack);
  if (taken !== undefined) {
    const { name, code } = taken;
    const where = `port ${stack.ports[name]} on ${DEV_HOST}`;
    throw new DevStartError(
      code === "EADDRINUSE"
        ? `${where} is in use; stop what listens there or pick another with ${PORT_FLAG[name]}`
        : `${where} cannot be listened on (${code}); pick another with ${PORT_FLAG[name]}`,
    );
  }
  return { stack, service, kratos: findDevKratos(wanted.kratosVersion, err) };
}

/**
 * `kratos-hooks dev`: Kratos (built or found), our service with its gateway (`npm start`'s
 * server, as a child process) or yours (`entry`, through `tsx watch`), and a courier sink that
 * prints every SMS and email, on the usual ports or the ones given. Runs until SIGINT, SIGTERM or
 * SIGHUP (or `io.signal`), then stops every child's process group. Returns 0 after a requested
 * stop, 1 when something failed or a child died.
 */
export async function devCommand(args: DevArgs, io: DevIO, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const stack = devStack(args);
  const dsn = kratosDsn(args.dsn);
  // A release that names nothing is a usage error before anything is checked or started.
  if (args.kratosVersion !== undefined) toJudgedKratos(args.kratosVersion, "flag", VERSION_FLAG);
  const entry = args.entry === undefined ? undefined : parseDevEntry(args.entry);
  const config = chooseDevKratosConfig({ config: args.config, entry });
  let plan: DevPlan;
  try {
    plan = { ...(await findWhatRuns(stack, { entry, kratosVersion: args.kratosVersion }, io.err)), dsn, config };
  } catch (error) {
    // Classified by type: not built, no tsx or a port taken; a missing toolchain, or no usable
    // binary (KRATOS_BIN, KRATOS_BIN_V…, the cache). A usage error, or anything else, goes on.
    if (!(error instanceof DevStartError || error instanceof KratosToolchainError || error instanceof KratosUnavailableError)) throw error;
    io.err(`kratos-hooks dev: ${error.message}\n`);
    return 1;
  }
  return runDevStack(plan, io, env);
}
