import { builtInDenial, CONTINUE, type Decision, type Denial, GLOBAL_POINTER, type HookInput, traitPointer } from "../decision.js";
import { isDisposableDomain } from "../disposable.js";
import { domainMatches, emailDomain } from "../email.js";
import { factsOf, HOOK_IDS } from "../hooks.js";
import { getPath } from "../json.js";
import type { Policy } from "../policy.js";

/** The deny rules' options; `config/policy-schemas.ts` validates them and is checked against this type. */
export interface DenyRulesOptions {
  /** Trait paths that hold an email address. */
  emailTraits: readonly string[];
  /** Refuse domains on the disposable-address list (unless `allowDomains` is set). */
  blockDisposable: boolean;
  /** When not empty, only these domains (and their subdomains) may register. */
  allowDomains: readonly string[];
  denyDomains: readonly string[];
  login: {
    enabled: boolean;
    /** Refuse a login whose email domain is in `denyDomains`. */
    checkDeniedDomains: boolean;
    /** Refuse a login whose `metadata_public[key]` equals the value. */
    metadataPublic: readonly { key: string; equals: string | number | boolean }[];
  };
  request: {
    enabled: boolean;
    requiredHeaders: readonly string[];
    /** Regular expression sources, matched with flags `iu` against the User-Agent. */
    denyUserAgents: readonly string[];
  };
}

type Options = DenyRulesOptions;

/**
 * Deny rules: email domains on registration and settings, account rules on login, and
 * request metadata on the before-hooks (which carry no identity).
 */
export function createDenyRules(options: Options): Policy {
  const allow = new Set(options.allowDomains);
  const denied = new Set(options.denyDomains);
  const userAgents = options.request.denyUserAgents.map((source) => new RegExp(source, "iu"));

  function checkEmails(input: HookInput): Decision {
    const denials: Denial[] = [];
    for (const field of options.emailTraits) {
      const domain = emailDomain(getPath(input.identity?.traits ?? {}, field));
      if (domain === undefined) continue;
      const pointer = traitPointer(field);
      if (domainMatches(domain, denied)) {
        denials.push({ key: "EMAIL_DOMAIN_DENIED", pointer, context: { reason: "domain_denied", domain } });
      } else if (allow.size > 0 && !domainMatches(domain, allow)) {
        denials.push({ key: "EMAIL_DOMAIN_NOT_ALLOWED", pointer, context: { reason: "domain_not_allowed", domain } });
      } else if (options.blockDisposable && allow.size === 0 && isDisposableDomain(domain)) {
        // An explicit allowlist is the operator's own judgement, so it overrides the disposable list.
        denials.push({ key: "EMAIL_DOMAIN_DISPOSABLE", pointer, context: { reason: "disposable_domain", domain } });
      }
    }
    return denials.length > 0 ? { kind: "deny", messages: denials } : CONTINUE;
  }

  function checkLogin(input: HookInput): Decision {
    if (!options.login.enabled || input.identity === undefined) return CONTINUE;
    if (options.login.checkDeniedDomains) {
      for (const field of options.emailTraits) {
        const domain = emailDomain(getPath(input.identity.traits, field));
        if (domain !== undefined && domainMatches(domain, denied)) {
          return builtInDenial("LOGIN_DENIED", GLOBAL_POINTER, { reason: "email_domain_denied" });
        }
      }
    }
    const metadata = input.identity.metadataPublic ?? {};
    for (const rule of options.login.metadataPublic) {
      if (metadata[rule.key] === rule.equals)
        return builtInDenial("LOGIN_DENIED", GLOBAL_POINTER, { reason: "metadata_flag", key: rule.key });
    }
    return CONTINUE;
  }

  function checkRequest(input: HookInput): Decision {
    if (!options.request.enabled) return CONTINUE;
    for (const header of options.request.requiredHeaders) {
      const values = input.headers.get(header.toLowerCase()) ?? [];
      if (!values.some((v) => v.trim() !== "")) {
        return builtInDenial("REQUEST_DENIED", GLOBAL_POINTER, { reason: "missing_header", header });
      }
    }
    const agent = input.headers.get("user-agent")?.join(", ") ?? "";
    if (userAgents.some((pattern) => pattern.test(agent))) {
      return builtInDenial("REQUEST_DENIED", GLOBAL_POINTER, { reason: "user_agent_denied" });
    }
    return CONTINUE;
  }

  return {
    name: "denyRules",
    hooks: new Set(HOOK_IDS),
    decide(input) {
      const facts = factsOf(input.hook);
      // Before-hooks carry request metadata only; login checks the account; a hook that saves
      // an identity checks the addresses being saved.
      if (!facts.hasIdentity) return checkRequest(input);
      if (facts.flow === "login") return checkLogin(input);
      if (facts.persistsPatch) return checkEmails(input);
      return CONTINUE;
    },
  };
}
