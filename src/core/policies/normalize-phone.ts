import { CONTINUE, type Decision, type Denial, traitPointer } from "../decision.js";
import { hooksWhere } from "../hooks.js";
import { getPath, isBlank, setPath } from "../json.js";
import { regionOfHookInput } from "../phone-region.js";
import { checkPhone, type NormalizePhoneOptions } from "../phone-rules.js";
import type { Policy } from "../policy.js";

/**
 * Rewrites the configured phone traits to E.164 so that Kratos stores, matches and
 * de-duplicates one form of each number; denies, on the field, what cannot be normalised.
 */
export function createNormalizePhone(options: NormalizePhoneOptions): Policy {
  return {
    name: "normalizePhone",
    hooks: hooksWhere((hook) => hook.persistsPatch),
    decide(input): Decision {
      if (input.identity === undefined) return CONTINUE;
      const region = regionOfHookInput(input, options);
      let traits = input.identity.traits;
      const denials: Denial[] = [];
      for (const field of options.fields) {
        const value = getPath(traits, field);
        if (isBlank(value)) continue;
        const pointer = traitPointer(field);
        if (typeof value !== "string") {
          denials.push({ key: "PHONE_INVALID", pointer, context: { reason: "invalid_phone", detail: "NOT_A_STRING" } });
          continue;
        }
        const outcome = checkPhone(value, region, options);
        if (!outcome.ok) denials.push({ key: outcome.key, pointer, context: outcome.context });
        else if (outcome.e164 !== value) traits = setPath(traits, field, outcome.e164);
      }
      if (denials.length > 0) return { kind: "deny", messages: denials };
      return traits === input.identity.traits ? CONTINUE : { kind: "patch", identity: { traits } };
    },
  };
}
