import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isPlainObject, jsonEqual } from "../core/json.js";
import { loadCliConfig } from "./cli-config.js";
import { findUnknownKeys, webhookFindings } from "./doctor-hooks.js";
import { checkIdentitySchema } from "./doctor-schema.js";
import { fetchKratosURL, type KratosConfig, openKratosConfig } from "./kratos-config.js";
import { displayPath, UsageError } from "./usage.js";

export interface Finding {
  /** Stable id of the rule, e.g. `global-after-parse`. */
  code: string;
  severity: "error" | "warning";
  file: string;
  line?: number | undefined;
  /** Where in the file: a key path in kratos.yml or a JSON pointer in a schema. */
  path: string;
  message: string;
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
}

export interface DoctorReport {
  kratos: string;
  /** Kratos's working directory assumed for relative file:// URLs. */
  cwd: string;
  findings: Finding[];
  errors: number;
  warnings: number;
  exitCode: 0 | 1;
}

/** identity: shape, schema list, each schema document. Returns the declared ids and documents. */
function checkIdentity(kratos: KratosConfig, cwd: string, add: (f: Omit<Finding, "file">, file?: string) => void) {
  const declared = new Map<string, unknown>();
  const identity = kratos.data.identity;
  if (identity === undefined) {
    add({
      code: "identity-missing",
      severity: "error",
      path: "identity",
      message: "kratos.yml has no identity section: Kratos refuses to start (identity.schemas is required)",
      fix: "add identity.schemas with at least one {id, url}",
    });
    return declared;
  }
  if (!isPlainObject(identity)) {
    add({
      code: "identity-not-object",
      severity: "error",
      line: kratos.lineOf(["identity"]),
      path: "identity",
      message: `identity is written as a ${Array.isArray(identity) ? "list" : typeof identity} (${JSON.stringify(identity)}): Kratos refuses to start, it expects a mapping with default_schema_id and schemas`,
      fix: "write identity:\n  default_schema_id: default\n  schemas:\n    - id: default\n      url: file://…",
    });
    return declared;
  }
  const schemas = identity.schemas;
  if (!Array.isArray(schemas) || schemas.length === 0) {
    add({
      code: "schemas-missing",
      severity: "error",
      line: kratos.lineOf(["identity", "schemas"]) ?? kratos.lineOf(["identity"]),
      path: "identity.schemas",
      message: "identity.schemas is missing or empty: Kratos refuses to start (it needs at least one identity schema)",
      fix: "list each schema as - id: <id>\n  url: file://<path>",
    });
    return declared;
  }
  schemas.forEach((entry, i) => {
    const path = `identity.schemas[${i}]`;
    const at = kratos.lineOf(["identity", "schemas", i]);
    if (!isPlainObject(entry) || typeof entry.id !== "string" || typeof entry.url !== "string") {
      if (isPlainObject(entry) && typeof entry.id === "string") declared.set(entry.id, undefined);
      add({
        code: "schema-entry-incomplete",
        severity: "error",
        line: at,
        path,
        message: "a schema entry needs a string id and url: Kratos refuses to start",
        fix: "write - id: <id>\n  url: file://<path>",
      });
      return;
    }
    if (declared.has(entry.id)) {
      add({
        code: "duplicate-schema-id",
        severity: "error",
        line: at,
        path: `${path}.id`,
        message: `schema id "${entry.id}" is declared twice: Kratos starts, but uses only one of the two for identities with this id`,
        fix: "give each schema its own id",
      });
    }
    const fetched = fetchKratosURL(entry.url, cwd);
    if (!fetched.ok) {
      const remote = /^https?:\/\//.test(entry.url);
      add({
        code: remote ? "schema-remote" : "schema-unreadable",
        severity: remote ? "warning" : "error",
        line: kratos.lineOf(["identity", "schemas", i, "url"]),
        path: `${path}.url`,
        message: remote
          ? `${entry.url} is not checked (no network access here)`
          : `schema "${entry.id}": ${fetched.why}, so Kratos refuses to start; relative file:// URLs resolve from Kratos's working directory, assumed to be ${cwd}`,
        fix: remote
          ? "run the doctor where the URL is reachable, or check the file locally with --schemas"
          : "start Kratos from the directory the URL is relative to, or pass that directory with --cwd, or fix the path",
      });
      declared.set(entry.id, undefined);
      return;
    }
    let document: unknown;
    try {
      document = JSON.parse(fetched.text);
    } catch (error) {
      add(
        {
          code: "schema-not-json",
          severity: "error",
          path: "#",
          message: `schema "${entry.id}" is not JSON (${(error as Error).message}): Kratos refuses to start`,
          fix: "fix the JSON syntax",
        },
        fetched.where,
      );
      declared.set(entry.id, undefined);
      return;
    }
    const problems = checkIdentitySchema(document);
    // A broken schema is reported once; comparing it with our copy would only repeat that.
    declared.set(entry.id, problems.length === 0 ? document : undefined);
    for (const finding of problems) {
      add({ ...finding, path: finding.pointer, message: `schema "${entry.id}": ${finding.message}` }, fetched.where);
    }
  });
  const defaultId = identity.default_schema_id ?? "default";
  if (typeof defaultId !== "string" || !declared.has(defaultId)) {
    add({
      code: "default-schema-unknown",
      severity: "error",
      line: kratos.lineOf(["identity", "default_schema_id"]),
      path: "identity.default_schema_id",
      message: `default_schema_id is ${JSON.stringify(defaultId)}${identity.default_schema_id === undefined ? " (Kratos's default)" : ""}, which no schema in identity.schemas has (${[...declared.keys()].join(", ")}): Kratos starts, but cannot find the schema for new identities`,
      fix: "set default_schema_id to one of the declared ids, or declare that schema",
    });
  }
  return declared;
}

/** Our routing rules and identity schemas against what kratos.yml declares. */
function checkRouting(
  config: DoctorOptions["config"],
  declared: Map<string, unknown>,
  add: (f: Omit<Finding, "file">, file?: string) => void,
) {
  let loaded: ReturnType<typeof loadCliConfig>;
  try {
    loaded = loadCliConfig(config);
  } catch (error) {
    add(
      {
        code: "hooks-config-invalid",
        severity: "error",
        path: "(top level)",
        message: (error as Error).message,
        fix: "run kratos-hooks config check",
      },
      config ?? "kratos-hooks config",
    );
    return;
  }
  const file = config ?? `kratos-hooks config (${loaded.source})`;
  const { routeSchema, identitySchemas } = loaded.config;
  const check = (id: string, path: string) => {
    if (routeSchema.enabled && !declared.has(id)) {
      add(
        {
          code: "route-schema-undeclared",
          severity: "error",
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
          severity: "warning",
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
function checkGateway(kratos: KratosConfig, options: DoctorOptions, add: (f: Omit<Finding, "file">) => void) {
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
  add({
    code: "gateway-base-url",
    severity: "warning",
    line: kratos.lineOf(["serve", "public", "base_url"]),
    path: "serve.public.base_url",
    message:
      gateway !== undefined
        ? `serve.public.base_url is ${shown}, not the gateway's public URL ${gateway.href}: Kratos's form actions, redirects and CSRF cookie point past the gateway, where phone numbers are compared as typed`
        : `serve.public.base_url is ${shown}, Kratos's own address (GATEWAY_KRATOS_URL): Kratos's form actions and redirects send clients past the gateway, where phone numbers are compared as typed`,
    fix: `set serve.public.base_url to the URL clients call: the gateway's${gateway === undefined ? "" : ` (${gateway.href})`}; keep Kratos's own public port reachable only by the gateway`,
  });
}

/** Checks kratos.yml, the identity schemas it names and our routing against it. */
export function runDoctor(options: DoctorOptions): DoctorReport {
  const { kratos, cwd } = openKratosConfig(options.kratos, options.cwd);
  const findings: Finding[] = [];
  const mainFile = displayPath(kratos.file);
  const add = (finding: Omit<Finding, "file">, file = kratos.file) => {
    findings.push({ ...finding, file: displayPath(file) });
  };
  for (const unknown of findUnknownKeys(kratos.data)) add({ ...unknown, line: kratos.lineOf(unknown.at) });
  const declared = checkIdentity(kratos, cwd, add);
  for (const finding of webhookFindings(kratos.data, cwd)) add({ ...finding, line: kratos.lineOf(finding.at) });
  checkGateway(kratos, options, add);
  if (options.schemas !== undefined) {
    let names: string[];
    try {
      names = readdirSync(options.schemas)
        .filter((f) => f.endsWith(".json"))
        .sort();
    } catch (error) {
      throw new UsageError(`cannot read --schemas ${options.schemas} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
    }
    for (const name of names) {
      const file = join(options.schemas, name);
      let document: unknown;
      try {
        document = JSON.parse(readFileSync(file, "utf8"));
      } catch (error) {
        add(
          {
            code: "schema-not-json",
            severity: "error",
            path: "#",
            message: `not JSON: ${(error as Error).message}`,
            fix: "fix the JSON syntax",
          },
          file,
        );
        continue;
      }
      for (const finding of checkIdentitySchema(document)) add({ ...finding, path: finding.pointer }, file);
    }
  }
  // Without any declared schema, every routing rule would repeat the identity finding.
  if (declared.size > 0) checkRouting(options.config, declared, add);
  // kratos.yml first, then the other files by name; within a file, by line.
  const rank = (f: Finding) => (f.file === mainFile ? "" : f.file);
  findings.sort((a, b) => rank(a).localeCompare(rank(b)) || (a.line ?? 0) - (b.line ?? 0));
  const errors = findings.filter((f) => f.severity === "error").length;
  return { kratos: mainFile, cwd, findings, errors, warnings: findings.length - errors, exitCode: errors > 0 ? 1 : 0 };
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
  return `${[...lines, summary].join("\n")}\n`;
}
