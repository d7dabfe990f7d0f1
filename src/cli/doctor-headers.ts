import type { Config } from "../config/schema.js";
import { type HookId, hooksWhere } from "../core/hooks.js";
import { normalizePhonePolicy } from "../core/policies/index.js";
import { canonicalHeaderKey, KRATOS_DEFAULT_HEADER_ALLOWLIST } from "../kratos/header-allowlist.js";
import { finding, type Problem } from "./doctor-finding.js";
import { listHooks, routeOf } from "./kratos-config.js";
import { forwardedHeaders } from "./kratos-headers.js";
import { featuresOf, type JudgedKratos } from "./kratos-version.js";

/** A request header our config makes the hooks read from `ctx.request_headers`. */
interface HeaderUse {
  header: string;
  /** The key of our config that names it. */
  key: string;
  /** The hooks that read it; it matters only when kratos.yml wires one of them. */
  hooks: ReadonlySet<HookId>;
  effect: Problem["effect"];
  /** What happens when it never arrives. */
  without: string;
  /** What to change in our config instead, where Kratos cannot pass it. */
  instead: string;
}

const BEFORE_HOOKS = hooksWhere((facts) => !facts.hasIdentity);

function headerUses(config: Config): HeaderUse[] {
  const uses: HeaderUse[] = [];
  const { regionHeader } = config.normalizePhone;
  if (config.normalizePhone.enabled && regionHeader !== null) {
    uses.push({
      header: regionHeader,
      key: "normalizePhone.regionHeader",
      hooks: normalizePhonePolicy(config).hooks,
      effect: "warning",
      without: `the hooks read national numbers only with the form's transient_payload.phone_region or normalizePhone.defaultRegion${config.normalizePhone.defaultRegion === null ? " (none is set, so they are refused as region_required)" : ""}; the gateway reads the header from the client's request itself and is not affected`,
      instead:
        "send the region from the form as transient_payload.phone_region, which reaches registration hooks on every release and settings hooks on v1.3.1 only (on v26.2.0 settings need the gateway, which reads it first)",
    });
  }
  const { request } = config.denyRules;
  if (config.denyRules.enabled && request.enabled) {
    request.requiredHeaders.forEach((header, i) => {
      uses.push({
        header,
        key: `denyRules.request.requiredHeaders[${i}]`,
        hooks: BEFORE_HOOKS,
        effect: "fails_at_runtime",
        without: "every before-hook refuses the request (missing_header): no registration or login flow is created",
        instead: `remove "${header}" from denyRules.request.requiredHeaders`,
      });
    });
    if (request.denyUserAgents.length > 0) {
      uses.push({
        header: "User-Agent",
        key: "denyRules.request.denyUserAgents",
        hooks: BEFORE_HOOKS,
        effect: "warning",
        without: "the User-Agent rules never match, so every client passes them",
        instead: "drop denyRules.request.denyUserAgents",
      });
    }
  }
  return uses;
}

/** A finding and whether it belongs to kratos.yml or to our config file. */
export interface HeaderFinding {
  problem: Problem;
  in: "kratos" | "ours";
}

/**
 * `header-not-allowlisted`: a request header the hooks read (our region header, required headers,
 * User-Agent rules) that Kratos does not put in `ctx.request_headers`. Before v25.4 Kratos passes
 * 17 fixed names and ignores `clients.web_hook.header_allowlist`; from v25.4 it passes exactly
 * that list, which replaces its default (names compared as Go's CanonicalMIMEHeaderKey writes
 * them). Measured on both releases in test/e2e/doctor-agreement.e2e.test.ts.
 */
export function headerFindings(data: Record<string, unknown>, config: Config, judged: JudgedKratos): HeaderFinding[] {
  const forwarded = forwardedHeaders(data, featuresOf(judged));
  const wired = new Set<HookId>();
  for (const entry of listHooks(data)) {
    const route = entry.name === "web_hook" ? routeOf(entry.config?.url) : null;
    if (route !== null && "id" in route) wired.add(route.id);
  }
  const out: HeaderFinding[] = [];
  for (const use of headerUses(config)) {
    if (![...use.hooks].some((hook) => wired.has(hook))) continue;
    const name = canonicalHeaderKey(use.header);
    if (forwarded.names.has(name)) continue;
    const reads = `the hooks read the request header ${name} (${use.key})`;
    if (forwarded.source === "fixed") {
      out.push({
        in: "ours",
        problem: {
          code: "header-not-allowlisted",
          effect: use.effect,
          path: use.key,
          message: `${reads}, but Kratos before v25.4 passes web_hooks only its 17 fixed request headers${forwarded.configuredInFile ? " and ignores clients.web_hook.header_allowlist" : ""}: ${name} never reaches them, so ${use.without}`,
          fix: `${use.instead}; or run Kratos v25.4+ and add ${name} to clients.web_hook.header_allowlist`,
        },
      });
      continue;
    }
    const defaults = KRATOS_DEFAULT_HEADER_ALLOWLIST.join(", ");
    out.push({
      in: "kratos",
      problem: finding({
        code: "header-not-allowlisted",
        effect: use.effect,
        at: ["clients", "web_hook", "header_allowlist"],
        message: `${reads}, which is not in clients.web_hook.header_allowlist${forwarded.source === "default" ? " (not set: Kratos's 17 default names)" : " (the list replaces Kratos's default)"}: ${name} never reaches them, so ${use.without}`,
        fix:
          forwarded.source === "default"
            ? `set clients.web_hook.header_allowlist to Kratos's defaults plus ${name} (the list replaces the defaults): [${defaults}, ${name}]`
            : `add ${name} to clients.web_hook.header_allowlist`,
      }),
    });
  }
  return out;
}
