import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { HOOK_IDS } from "../core/hooks.js";
import { formatConfigCheck, runConfigCheck } from "./config-check.js";
import { formatDoctor, runDoctor } from "./doctor.js";
import { HELP } from "./help.js";
import { JsonnetUnavailableError } from "./jsonnet.js";
import { resolveJudgedKratos } from "./kratos-version.js";
import { shieldCommand } from "./shield.js";
import { formatTry, listExamples, runTry, withBareExample } from "./try.js";
import { EXIT, PACKAGE_ROOT, UsageError } from "./usage.js";

/** `doctor` and `try`: which Kratos release to judge for (src/cli/kratos-version.ts). */
const VERSION_OPTIONS = { "kratos-version": { type: "string" }, "admin-url": { type: "string" } } satisfies ParseArgsConfig["options"];

const COMMON = { json: { type: "boolean" }, help: { type: "boolean", short: "h" } } satisfies ParseArgsConfig["options"];

function parse<T extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    // Node's parseArgs says what was mistyped with an ERR_PARSE_ARGS_* code; anything else is ours.
    if (String((error as NodeJS.ErrnoException).code).startsWith("ERR_PARSE_ARGS_")) throw new UsageError((error as Error).message);
    throw error;
  }
}

function tooMany(positionals: string[], max: number, usage: string): void {
  if (positionals.length > max) throw new UsageError(`unexpected argument "${positionals[max]}"; usage: ${usage}`);
}

export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
  /** stderr is a terminal (progress bars). */
  isTTY?: boolean;
  /** Interrupts a long command as SIGINT does (tests); the real command listens for SIGINT itself. */
  signal?: AbortSignal;
}

function help(out: (text: string) => void, topic: keyof typeof HELP): 0 {
  out(HELP[topic]);
  return 0;
}

/** The backfill stops gracefully on the first SIGINT; a second one kills it as usual. */
async function withInterrupt<T>(signal: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  if (signal !== undefined) return work(signal);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once("SIGINT", onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off("SIGINT", onSignal);
  }
}

/** What every command gets: the rest of the command line, and where to say things. */
type Command = (rest: string[], io: Output) => Promise<number>;

function printVersion(out: (text: string) => void): 0 {
  out(`${(JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }).version}\n`);
  return 0;
}

/** `try` and `doctor`: the release to judge for, from --kratos-version or --admin-url, and the other options. */
async function judgedAndGiven<T extends { "kratos-version"?: string | undefined; "admin-url"?: string | undefined }>(values: T) {
  const { "kratos-version": _, "admin-url": __, ...given } = values;
  const version = await resolveJudgedKratos({ version: values["kratos-version"], adminUrl: values["admin-url"] });
  return { given, version };
}

async function cliTry(rest: string[], { out }: Output): Promise<number> {
  const { values, positionals } = parse(withBareExample(rest), {
    example: { type: "string" },
    config: { type: "string" },
    kratos: { type: "string" },
    cwd: { type: "string" },
    url: { type: "string" },
    ...VERSION_OPTIONS,
  });
  if (values.help) return help(out, "try");
  tooMany(positionals, 2, "kratos-hooks try <hook> <ctx.json>");
  const [hook, ctxFile] = positionals;
  if (hook === undefined) throw new UsageError(`name a hook: ${HOOK_IDS.join(", ")}`);
  if (ctxFile !== undefined && values.example !== undefined) throw new UsageError("give either a ctx file or --example, not both");
  if (values.example === "") return listExamples(hook, out);
  const { given, version } = await judgedAndGiven(values);
  const report = await runTry({ hook, ctxFile, ...given, version });
  out(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatTry(report));
  return report.exitCode;
}

async function cliDoctor(rest: string[], { out }: Output): Promise<number> {
  const { values, positionals } = parse(rest, {
    cwd: { type: "string" },
    schemas: { type: "string" },
    config: { type: "string" },
    gateway: { type: "string" },
    hooks: { type: "boolean" },
    ...VERSION_OPTIONS,
  });
  if (values.help) return help(out, "doctor");
  tooMany(positionals, 1, "kratos-hooks doctor [kratos.yml]");
  const { given, version } = await judgedAndGiven(values);
  const report = runDoctor({
    kratos: positionals[0],
    ...given,
    version,
    hooks: values.hooks,
    gatewayUpstream: process.env.GATEWAY_KRATOS_URL,
  });
  out(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
  return report.exitCode;
}

async function cliConfig(rest: string[], { out }: Output): Promise<number> {
  const [sub, ...more] = rest;
  if (sub === "--help" || sub === "-h" || sub === undefined) {
    if (sub === undefined) throw new UsageError("usage: kratos-hooks config check [file]");
    return help(out, "config");
  }
  if (sub !== "check") throw new UsageError(`unknown config command "${sub}"; usage: kratos-hooks config check [file]`);
  const { values, positionals } = parse(more, {});
  if (values.help) return help(out, "config");
  tooMany(positionals, 1, "kratos-hooks config check [file]");
  const report = runConfigCheck(positionals[0]);
  out(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatConfigCheck(report));
  return report.exitCode;
}

async function cliBackfill(rest: string[], { out, err, isTTY = false, signal }: Output): Promise<number> {
  const { values, positionals } = parse(rest, {
    "admin-url": { type: "string" },
    token: { type: "string" },
    region: { type: "string" },
    "dry-run": { type: "boolean" },
    report: { type: "string" },
    concurrency: { type: "string" },
    config: { type: "string" },
    resume: { type: "string" },
  });
  if (values.help) return help(out, "backfill");
  tooMany(positionals, 0, "kratos-hooks backfill --admin-url <url> [options]");
  const args = {
    adminUrl: values["admin-url"],
    token: values.token,
    region: values.region,
    dryRun: values["dry-run"],
    report: values.report,
    concurrency: values.concurrency,
    config: values.config,
    resume: values.resume,
  };
  // Loaded on use: the admin API client (@ory/client, axios) is the backfill's alone.
  const { backfillCommand } = await import("./backfill.js");
  return withInterrupt(signal, (abort) => backfillCommand(args, { out, err, isTTY, signal: abort }, process.env));
}

async function cliDev(rest: string[], { out, err, signal }: Output): Promise<number> {
  const { values, positionals } = parse(rest, {
    "hooks-port": { type: "string" },
    "gateway-port": { type: "string" },
    "public-port": { type: "string" },
    "admin-port": { type: "string" },
    "sink-port": { type: "string" },
    dsn: { type: "string" },
    "kratos-version": { type: "string" },
    entry: { type: "string" },
    config: { type: "string" },
  });
  if (values.help) return help(out, "dev");
  tooMany(positionals, 0, "kratos-hooks dev [options]");
  const { devCommand } = await import("./dev.js");
  const args = {
    hooksPort: values["hooks-port"],
    gatewayPort: values["gateway-port"],
    publicPort: values["public-port"],
    adminPort: values["admin-port"],
    sinkPort: values["sink-port"],
    dsn: values.dsn,
    kratosVersion: values["kratos-version"],
    entry: values.entry,
    config: values.config,
  };
  return devCommand(args, { out, err, color: process.stdout.isTTY === true, ...(signal && { signal }) });
}

async function cliInit(rest: string[], { out }: Output): Promise<number> {
  const { values, positionals } = parse(rest, { worker: { type: "boolean" } });
  if (values.help) return help(out, "init");
  tooMany(positionals, 1, "kratos-hooks init [dir] [--worker]");
  const { formatInit, runInit } = await import("./init.js");
  const report = runInit({ dir: positionals[0], worker: values.worker });
  out(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatInit(report));
  return EXIT.ok;
}

async function cliShield(rest: string[], { out, err }: Output): Promise<number> {
  const usage = "kratos-hooks shield status|unlock <identifier> [--url <url> | --redis <url>]";
  const [sub, ...more] = rest;
  if (sub === "--help" || sub === "-h") return help(out, "shield");
  if (sub !== "status" && sub !== "unlock") {
    throw new UsageError(sub === undefined ? `usage: ${usage}` : `unknown shield command "${sub}"; usage: ${usage}`);
  }
  const { values, positionals } = parse(more, {
    url: { type: "string" },
    redis: { type: "string" },
    region: { type: "string" },
    insecure: { type: "boolean" },
    config: { type: "string" },
  });
  if (values.help) return help(out, "shield");
  tooMany(positionals, 1, usage);
  const [identifier] = positionals;
  if (identifier === undefined) throw new UsageError(`name the identifier (a phone number, an email, a username); usage: ${usage}`);
  return shieldCommand({ action: sub, identifier, ...values }, { out, err }, process.env);
}

/** The commands by name; `help`, `--help` and `--version` are run's own. */
const COMMANDS: Record<string, Command> = {
  try: cliTry,
  doctor: cliDoctor,
  config: cliConfig,
  backfill: cliBackfill,
  dev: cliDev,
  init: cliInit,
  shield: cliShield,
};

async function run(argv: string[], io: Output): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    io.err(HELP.main);
    return EXIT.usage;
  }
  if (command === "help" || command === "--help" || command === "-h") {
    const topic = command === "help" ? rest[0] : undefined;
    io.out(topic !== undefined && Object.hasOwn(HELP, topic) ? HELP[topic as keyof typeof HELP] : HELP.main);
    return 0;
  }
  if (command === "--version" || command === "-v") return printVersion(io.out);
  const handler = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (handler === undefined) {
    throw new UsageError(
      `unknown command "${command}"; the commands are: init, try, doctor, config check, backfill, dev, shield (see kratos-hooks --help)`,
    );
  }
  return handler(rest, io);
}

const STDIO: Output = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  isTTY: process.stderr.isTTY === true,
};

/** Runs the CLI; returns the exit code instead of exiting, so tests can call it. */
export async function main(argv: string[], io: Output = STDIO): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    if (error instanceof UsageError || error instanceof JsonnetUnavailableError) {
      io.err(`kratos-hooks: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}
