import type { Config } from "../config/schema.js";
import { jsonEqual } from "../core/json.js";
import { loadCliConfig } from "./cli-config.js";
import { keyFindings } from "./doctor-auth.js";
import { type Effect, finding, type Problem, severityOf } from "./doctor-finding.js";
import { headerFindings } from "./doctor-headers.js";
import { hookTableFindings } from "./doctor-hook-table.js";
import { webhookFindings } from "./doctor-hooks.js";
import { findUnknownKeys } from "./doctor-keys.js";
import { type AddFinding, checkIdentity, checkSchemaFolder } from "./doctor-schema.js";
import { shieldFindings } from "./doctor-shield.js";
import { type HookRow, hookTable } from "./hook-table.js";
import { formatHookTable } from "./hook-table-format.js";
import { type KratosConfig, openKratosConfig } from "./kratos-config.js";
import { defaultJudgedKratos, formatJudgedKratos, type JudgedKratos, judgedAtLeast } from "./kratos-version.js";
import { displayPath, UsageError } from "./usage.js";

export interface Finding {
  /** Stable id of the rule, e.g. `global-after-parse`. */
  code: string;
  /** What the judged Kratos release does with it: refuses to start, starts and then fails, or runs (a warning). */
  effect: Effect;
  /** The first Kratos release that accepts it, when a later release does. */
  acceptedFrom?: string;
  /** `warning` for the effect `warning`, else `error`; errors make the exit code 1. */
  severity: "error" | "warning";
  file: string;
  line?: number | undefined;
  /** Where in the file: a key path in kratos.yml or a JSON pointer in a schema. */
  path: string;
  message: string;
  /** What to change, naming the key. */
  fix: string;
}

export interface DoctorOptions {
  kratos?: string | undefined;
  cwd?: string | undefined;
  schemas?: string | undefined;
  config?: string | undefined;
  /** The gateway's public URL (`--gateway`): Kratos's base_url must be this. */
  gateway?: string | undefined;
  /** `GATEWAY_KRATOS_URL` from the environment: Kratos's own address, which base_url must not be. */
  gatewayUpstream?: string | undefined;
  /** The Kratos release to judge for (`--kratos-version`, `--admin-url`); default: `defaultJudgedKratos()`. */
  version?: JudgedKratos | undefined;
  /** Also give the hooks Kratos really runs, per flow, phase and method (`--hooks`). */
  hooks?: boolean | undefined;
}

export interface DoctorReport {
  kratos: string;
  /** The release the findings hold for, and where the doctor learnt it. */
  kratosVersion: JudgedKratos;
  /** Kratos's working directory assumed for relative file:// URLs. */
  cwd: string;
  findings: Finding[];
  /** With `hooks`: which hooks the judged release runs, per flow, phase and method (src/cli/hook-table.ts). */
  hookTable?: HookRow[];
  errors: number;
  warnings: number;
  exitCode: 0 | 1;
}

/** Our config (`--config`, else as the server reads it) and the name its findings give it; a finding when it does not load. */
function loadOurConfig(config: DoctorOptions["config"], add: AddFinding): { config: Config; file: string } | undefined {
  try {
    const loaded = loadCliConfig(config);
    return { config: loaded.config, file: config ?? `kratos-hooks config (${loaded.source})` };
  } catch (error) {
    add(
      {
        code: "hooks-config-invalid",
        effect: "fails_at_runtime",
        path: "(top level)",
        message: (error as Error).message,
        fix: "run kratos-hooks config check",
      },
      config ?? "kratos-hooks config",
    );
    return undefined;
  }
}

/** Our routing rules and identity schemas against what kratos.yml declares. */
function checkRouting(ours: { config: Config; file: string }, declared: Map<string, unknown>, add: AddFinding) {
  const { file } = ours;
  const { routeSchema, identitySchemas } = ours.config;
  const check = (id: string, path: string) => {
    if (routeSchema.enabled && !declared.has(id)) {
      add(
        {
          code: "route-schema-undeclared",
          effect: "fails_at_runtime",
          path,
          message: `routes identities to schema "${id}", which kratos.yml does not declare (${[...declared.keys()].join(", ")}): Kratos answers "Unable to find JSON Schema ID: ${id}" for every such sign-up`,
          fix: `add - id: ${id} to identity.schemas in kratos.yml, or route to a declared schema`,
        },
        file,
      );
    }
  };
  for (const [i, rule] of routeSchema.rules.entries()) check(rule.schema, `routeSchema.rules[${i}].schema`);
  for (const [i, guard] of routeSchema.guards.entries()) check(guard.schema, `routeSchema.guards[${i}].schema`);
  for (const [id, document] of declared) {
    const ours = identitySchemas[id];
    if (document !== undefined && ours !== undefined && !jsonEqual(ours, document)) {
      add(
        {
          code: "schema-drift",
          effect: "warning",
          path: `identitySchemas.${id}`,
          message: `our copy of schema "${id}" differs from the one kratos.yml points at, so routed identities are checked against a different schema than Kratos uses`,
          fix: `point identitySchemas.${id} at the same file kratos.yml uses`,
        },
        file,
      );
    }
  }
}

/** `http://Host:1/x` and `http://host:1/x/` name the same base URL. */
function sameBase(a: URL, b: URL): boolean {
  return a.origin === b.origin && a.pathname.replace(/\/?$/, "/") === b.pathname.replace(/\/?$/, "/");
}

function parseURL(value: unknown): URL | undefined {
  try {
    return typeof value === "string" ? new URL(value) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Behind the gateway, Kratos's `serve.public.base_url` must be the gateway's public URL: Kratos
 * builds every form action, redirect and the CSRF cookie's name from it (contract §9.3), so any
 * other value sends browsers past the gateway, where phone numbers are compared as typed.
 */
function checkGateway(kratos: KratosConfig, options: DoctorOptions, add: AddFinding) {
  const configured = (kratos.data.serve as { public?: { base_url?: unknown } } | undefined)?.public?.base_url;
  const baseURL = parseURL(configured);
  const shown = configured === undefined ? "not set (Kratos then uses its own listen address)" : JSON.stringify(configured);
  const gateway = parseURL(options.gateway);
  if (options.gateway !== undefined && gateway === undefined)
    throw new UsageError(`--gateway: expected a URL, found ${JSON.stringify(options.gateway)}`);
  const upstream = parseURL(options.gatewayUpstream);
  const wrong =
    gateway !== undefined
      ? baseURL === undefined || !sameBase(baseURL, gateway)
      : baseURL !== undefined && upstream !== undefined && baseURL.origin === upstream.origin;
  if (!wrong) return;
  add(
    finding({
      code: "gateway-base-url",
      effect: "warning",
      at: ["serve", "public", "base_url"],
      message:
        gateway !== undefined
          ? `serve.public.base_url is ${shown}, not the gateway's public URL ${gateway.href}: Kratos's form actions, redirects and CSRF cookie point past the gateway, where phone numbers are compared as typed`
          : `serve.public.base_url is ${shown}, Kratos's own address (GATEWAY_KRATOS_URL): Kratos's form actions and redirects send clients past the gateway, where phone numbers are compared as typed`,
      fix: `set serve.public.base_url to the URL clients call: the gateway's${gateway === undefined ? "" : ` (${gateway.href})`}; keep Kratos's own public port reachable only by the gateway`,
    }),
  );
}

/** Checks kratos.yml, the identity schemas it names and our routing against it, for one Kratos release. */
export function runDoctor(options: DoctorOptions): DoctorReport {
  const { kratos, cwd } = openKratosConfig(options.kratos, options.cwd);
  const version = options.version ?? defaultJudgedKratos();
  const findings: Finding[] = [];
  const mainFile = displayPath(kratos.file);
  const add: AddFinding = ({ at, acceptedFrom, ...problem }: Problem, file = kratos.file) => {
    // What the judged release accepts is no finding (recovery via sms, a web_hook id: v25.4+).
    if (acceptedFrom !== undefined && judgedAtLeast(version, acceptedFrom)) return false;
    const line = at === undefined || file !== kratos.file ? undefined : kratos.lineOf(at);
    findings.push({
      ...problem,
      severity: severityOf(problem.effect),
      file: displayPath(file),
      ...(line === undefined ? {} : { line }),
      ...(acceptedFrom === undefined ? {} : { acceptedFrom }),
    });
    return true;
  };
  const release = { modern: judgedAtLeast(version, "v25.4.0") };
  const table = hookTable(kratos.data, release);
  for (const problem of findUnknownKeys(kratos.data)) add(problem);
  const declared = checkIdentity(kratos, cwd, add);
  for (const problem of webhookFindings(kratos.data, cwd)) add(problem);
  for (const problem of hookTableFindings(kratos.data, table, release)) add(problem);
  // The key each web_hook sends against the keys the service reads (HOOKS_API_KEYS, else the dev key).
  for (const problem of keyFindings(kratos.data, process.env)) add(problem);
  checkGateway(kratos, options, add);
  if (options.schemas !== undefined) checkSchemaFolder(options.schemas, add);
  // Without any declared schema, every routing rule would repeat the identity finding.
  const ours = declared.size > 0 ? loadOurConfig(options.config, add) : undefined;
  if (ours !== undefined) {
    checkRouting(ours, declared, add);
    for (const { problem, in: where } of headerFindings(kratos.data, ours.config, version))
      add(problem, where === "ours" ? ours.file : kratos.file);
    if (options.gateway !== undefined || options.gatewayUpstream !== undefined) {
      for (const problem of shieldFindings(kratos.data, ours.config, { gatewayUrlGiven: options.gateway !== undefined })) add(problem);
    }
  }
  // kratos.yml first, then the other files by name; within a file, by line.
  const rank = (f: Finding) => (f.file === mainFile ? "" : f.file);
  findings.sort((a, b) => rank(a).localeCompare(rank(b)) || (a.line ?? 0) - (b.line ?? 0));
  const errors = findings.filter((f) => f.severity === "error").length;
  return {
    kratos: mainFile,
    kratosVersion: version,
    cwd,
    findings,
    ...(options.hooks === true && { hookTable: table }),
    errors,
    warnings: findings.length - errors,
    exitCode: errors > 0 ? 1 : 0,
  };
}

export function formatDoctor(report: DoctorReport): string {
  const lines = report.findings.map(
    (f) =>
      `${f.file}${f.line === undefined ? "" : `:${f.line}`}  ${f.severity}  ${f.path}  ${f.message}\n    fix: ${f.fix.replaceAll("\n", "\n         ")}`,
  );
  const summary =
    report.findings.length === 0
      ? `${report.kratos}: no problems found (Kratos's working directory assumed: ${report.cwd})`
      : `${report.errors} error(s), ${report.warnings} warning(s) in ${report.kratos} (Kratos's working directory assumed: ${report.cwd})`;
  const table = report.hookTable === undefined ? "" : formatHookTable(report.hookTable, report.kratosVersion.judgedAs);
  return `${[`judged for Kratos ${formatJudgedKratos(report.kratosVersion)}`, ...lines, summary].join("\n")}\n${table}`;
}
