import type { CountryCode } from "libphonenumber-js/max";
import type { Config } from "../../config/schema.js";
import { CONTINUE, type Decision, type Denial, type HookInput, traitPointer } from "../decision.js";
import { getPath, isBlank, setPath } from "../json.js";
import { isPhoneRegion, toE164 } from "../phone.js";
import type { Policy } from "../policy.js";

type Options = Config["normalizePhone"];

/** The region that reads nationally written numbers, in the documented order of precedence. */
function resolveRegion(input: HookInput, options: Options): { region?: CountryCode; unknown?: string } {
  const picked = input.transientPayload?.phone_region;
  if (picked !== undefined && picked !== null && picked !== "") {
    const code = typeof picked === "string" ? picked.trim().toUpperCase() : "";
    return isPhoneRegion(code) ? { region: code } : { unknown: String(picked).slice(0, 16) };
  }
  if (options.regionHeader !== null) {
    // Cf-Ipcountry sends "XX" (unknown) and "T1" (Tor): not regions, so they fall through.
    const code = input.headers.get(options.regionHeader.toLowerCase())?.[0]?.trim().toUpperCase() ?? "";
    if (isPhoneRegion(code)) return { region: code };
  }
  return options.defaultRegion === null ? {} : { region: options.defaultRegion };
}

function check(value: string, region: ReturnType<typeof resolveRegion>, options: Options, pointer: string): Denial | string {
  const result = toE164(value, region.region);
  if (!result.ok) {
    if (result.reason === "extension") return { key: "PHONE_EXTENSION_NOT_SUPPORTED", pointer, context: { reason: "extension" } };
    if (result.reason === "invalid") {
      return { key: "PHONE_INVALID", pointer, context: { reason: "invalid_phone", detail: result.detail ?? "INVALID_NUMBER" } };
    }
    return region.unknown === undefined
      ? { key: "PHONE_NEEDS_INTERNATIONAL_FORMAT", pointer, context: { reason: "region_required" } }
      : { key: "PHONE_REGION_UNKNOWN", pointer, context: { reason: "unknown_region", region: region.unknown } };
  }
  if (options.allowedTypes !== null) {
    const type = result.type ?? "UNKNOWN";
    if (!(options.allowedTypes as readonly string[]).includes(type)) {
      return { key: "PHONE_TYPE_NOT_ALLOWED", pointer, context: { reason: "type_not_allowed", type, allowed: options.allowedTypes } };
    }
  }
  const country = result.country ?? null;
  if (options.allowedCountries !== null && (country === null || !(options.allowedCountries as readonly string[]).includes(country))) {
    return {
      key: "PHONE_COUNTRY_NOT_ALLOWED",
      pointer,
      context: { reason: "country_not_allowed", country, allowed: options.allowedCountries },
    };
  }
  if (country !== null && (options.deniedCountries as readonly string[]).includes(country)) {
    return { key: "PHONE_COUNTRY_DENIED", pointer, context: { reason: "country_denied", country } };
  }
  return result.e164;
}

/**
 * Rewrites the configured phone traits to E.164 so that Kratos stores, matches and
 * de-duplicates one form of each number; denies, on the field, what cannot be normalised.
 */
export function createNormalizePhone(options: Options): Policy {
  return {
    name: "normalizePhone",
    hooks: new Set(["registration-after", "settings-after"]),
    decide(input): Decision {
      if (input.identity === undefined) return CONTINUE;
      const region = resolveRegion(input, options);
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
        const outcome = check(value, region, options, pointer);
        if (typeof outcome !== "string") denials.push(outcome);
        else if (outcome !== value) traits = setPath(traits, field, outcome);
      }
      if (denials.length > 0) return { kind: "deny", messages: denials };
      return traits === input.identity.traits ? CONTINUE : { kind: "patch", identity: { traits } };
    },
  };
}
