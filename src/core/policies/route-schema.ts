import {
  builtInDenial,
  CONTINUE,
  type Decision,
  type Denial,
  GLOBAL_POINTER,
  type HookInput,
  type IdentityView,
  type JsonObject,
  traitPointer,
} from "../decision.js";
import { domainMatches, emailDomain } from "../email.js";
import { hooksWhere } from "../hooks.js";
import type { IdentitySchemaSet } from "../identity-schemas.js";
import { getPath, isBlank } from "../json.js";
import { toE164 } from "../phone.js";
import { type PhoneRegionOptions, regionOfHookInput } from "../phone-region.js";
import type { Policy } from "../policy.js";

/** A rule's condition: every key given must hold. */
export interface Condition {
  traitPresent?: readonly string[] | undefined;
  traitAbsent?: readonly string[] | undefined;
  emailDomainIn?: readonly string[] | undefined;
  /** ISO 3166-1 alpha-2 regions of the phone trait's number. */
  phoneCountryIn?: readonly string[] | undefined;
  schemaIdIn?: readonly string[] | undefined;
  transientPayloadEquals?: Readonly<Record<string, string | number | boolean | null>> | undefined;
}

/** Schema routing's options; `config/policy-schemas.ts` validates them and is checked against this type. */
export interface RouteSchemaOptions {
  emailTrait: string;
  phoneTrait: string;
  /** Drop traits the target schema does not declare (Kratos would refuse them otherwise). */
  dropUndeclaredTraits: boolean;
  /** The first rule whose condition holds chooses the schema. */
  rules: readonly { name?: string | undefined; when: Condition; schema: string; metadataPublic?: Record<string, unknown> | undefined }[];
  /** A schema the client asked for is refused unless `require` holds; the message goes on `field`. */
  guards: readonly { schema: string; require: Condition; field: string | null }[];
}

type Options = RouteSchemaOptions;

/** What routing needs to know about phone numbers. */
export interface RoutePhoneOptions {
  /** How `phoneCountryIn` reads a nationally written number: the same regions as `normalizePhone`. */
  region: PhoneRegionOptions;
}

function present(traits: JsonObject, path: string): boolean {
  return !isBlank(getPath(traits, path));
}

function createMatcher(options: Options, phoneOptions: RoutePhoneOptions) {
  const domainSets = new WeakMap<readonly string[], ReadonlySet<string>>();
  const domainsOf = (list: readonly string[]) => {
    const known = domainSets.get(list);
    if (known !== undefined) return known;
    const set = new Set(list);
    domainSets.set(list, set);
    return set;
  };
  return (when: Condition, input: HookInput, identity: IdentityView): boolean => {
    const { traits } = identity;
    if (when.traitPresent?.some((path) => !present(traits, path))) return false;
    if (when.traitAbsent?.some((path) => present(traits, path))) return false;
    if (when.schemaIdIn !== undefined && !when.schemaIdIn.includes(identity.schemaId)) return false;
    if (when.emailDomainIn !== undefined) {
      const domain = emailDomain(getPath(traits, options.emailTrait));
      if (domain === undefined || !domainMatches(domain, domainsOf(when.emailDomainIn))) return false;
    }
    if (when.phoneCountryIn !== undefined) {
      const phone = getPath(traits, options.phoneTrait);
      const parsed = typeof phone === "string" ? toE164(phone, regionOfHookInput(input, phoneOptions.region).region) : undefined;
      if (!parsed?.ok || parsed.country === undefined || !(when.phoneCountryIn as readonly string[]).includes(parsed.country)) return false;
    }
    if (when.transientPayloadEquals !== undefined) {
      for (const [key, expected] of Object.entries(when.transientPayloadEquals)) {
        if (input.transientPayload?.[key] !== expected) return false;
      }
    }
    return true;
  };
}

/** Kratos reports a missing `anyOf` branch at `#/traits`; that is not a form field, so show it globally. */
function toFieldPointer(pointer: string): string {
  return pointer.startsWith("#/traits/") ? pointer : GLOBAL_POINTER;
}

/**
 * The field whose value made a rule choose its schema: the trait its email or phone condition
 * read, else the first trait it needs present; global when it read none. The trait is on the
 * form: Kratos validated the traits against the requested schema before the hook.
 */
function reasonPointer(when: Condition, options: Options): string {
  if (when.emailDomainIn !== undefined) return traitPointer(options.emailTrait);
  if (when.phoneCountryIn !== undefined) return traitPointer(options.phoneTrait);
  const first = when.traitPresent?.[0];
  return first === undefined ? GLOBAL_POINTER : traitPointer(first);
}

// A schema id as the config spells one; anything else a payload names is not logged raw.
const LOGGABLE_SCHEMA_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Chooses the identity schema for a new identity: guards first (a schema the client asked for
 * whose requirement fails is refused), then the first matching rule. Kratos re-validates the
 * identity against the new `schema_id` after the hook (`selfservice/flow/registration/hook.go`),
 * so the routed traits are trimmed to what the target declares and validated here first: the
 * person gets our message on the right field instead of an opaque Kratos error.
 *
 * A schema the client named (`flow.identity_schema`, Kratos v25.4+ `?identity_schema=`) is never
 * left silently: a rule that routes elsewhere moves the identity only when its `schemaIdIn` lists
 * the named schema (the operator routes away from it on purpose, and the move is logged); any
 * other such rule is a conflict, refused with SCHEMA_CONFLICT on the field the rule read.
 */
export function createRouteSchema(options: Options, schemas: IdentitySchemaSet, phone: RoutePhoneOptions): Policy {
  const matches = createMatcher(options, phone);
  return {
    name: "routeSchema",
    hooks: hooksWhere((hook) => hook.createsIdentity),
    decide(input, context): Decision {
      const identity = input.identity;
      if (identity === undefined) return CONTINUE;
      const requested = new Set([identity.schemaId, input.requestedSchemaId]);
      for (const guard of options.guards) {
        if (requested.has(guard.schema) && !matches(guard.require, input, identity)) {
          const pointer = guard.field === null ? GLOBAL_POINTER : traitPointer(guard.field);
          return builtInDenial("SCHEMA_NOT_ALLOWED", pointer, { reason: "schema_not_allowed", schema_id: guard.schema });
        }
      }
      const index = options.rules.findIndex((r) => matches(r.when, input, identity));
      const rule = options.rules[index];
      if (rule === undefined) return CONTINUE;
      const asked = input.requestedSchemaId;
      if (asked !== undefined && rule.schema !== asked) {
        const fields = {
          policy: "routeSchema",
          rule: rule.name ?? `rules[${index}]`,
          schemaId: rule.schema,
          requestedSchemaId: LOGGABLE_SCHEMA_ID.test(asked) ? asked : undefined,
        };
        if (rule.when.schemaIdIn?.includes(asked) !== true) {
          context.logger.info(fields, "refused the schema the client asked for: a routing rule chose another");
          return builtInDenial("SCHEMA_CONFLICT", reasonPointer(rule.when, options), {
            reason: "schema_conflict",
            requested_schema_id: asked,
            schema_id: rule.schema,
          });
        }
        context.logger.info(fields, "routed away from the schema the client asked for");
      }
      const declared = schemas.declaredTraits(rule.schema);
      // Blank strings (an empty optional form field) count as absent here as in the conditions:
      // kept, they would fail a `format` in the target schema.
      const traits = Object.fromEntries(
        Object.entries(identity.traits).filter(
          ([key, value]) => !(typeof value === "string" && isBlank(value)) && (!options.dropUndeclaredTraits || declared.has(key)),
        ),
      );
      // Every `format: tel` trait is checked as Kratos checks it, whatever ran before: routing
      // does not assume normalizePhone ran because a setting says it is on.
      const problems = schemas.validate(rule.schema, traits);
      if (problems.length > 0) {
        const seen = new Set<string>();
        const messages: Denial[] = [];
        for (const problem of problems) {
          const pointer = toFieldPointer(problem.pointer);
          if (seen.has(pointer)) continue;
          seen.add(pointer);
          messages.push({
            key: "SCHEMA_TRAITS_INVALID",
            pointer,
            context: { reason: "schema_mismatch", schema_id: rule.schema, keyword: problem.keyword, detail: problem.detail },
          });
        }
        return { kind: "deny", messages };
      }
      const patch: Partial<IdentityView> = { schemaId: rule.schema, traits };
      if (rule.metadataPublic !== undefined) patch.metadataPublic = { ...identity.metadataPublic, ...rule.metadataPublic };
      return { kind: "patch", identity: patch };
    },
  };
}
