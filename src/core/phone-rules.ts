import type { CountryCode } from "libphonenumber-js/max";
import type { JsonObject } from "./decision.js";
import type { MessageKey } from "./messages.js";
import { type PhoneType, toE164 } from "./phone.js";
import type { PhoneRegionOptions, ResolvedRegion } from "./phone-region.js";

/** Which numbers are accepted once they normalize: the sign-up rules (the hooks apply them; the gateway does not). */
export interface PhoneRuleOptions {
  /** Number types accepted (`MOBILE`, …); null accepts every type. */
  allowedTypes: readonly PhoneType[] | null;
  /** Countries accepted; null accepts every country. */
  allowedCountries: readonly CountryCode[] | null;
  /** Countries refused. */
  deniedCountries: readonly CountryCode[];
}

/** The phone normalization settings, shared by the hooks' policy and the gateway. */
export interface NormalizePhoneOptions extends PhoneRegionOptions, PhoneRuleOptions {
  enabled: boolean;
  /** Trait paths holding phone numbers (`phone`, `contact.mobile`). */
  fields: readonly string[];
}

export type PhoneCheck = { ok: true; e164: string; country: string | undefined } | { ok: false; key: MessageKey; context: JsonObject };

/**
 * Normalizes a number in the resolved region, then applies the sign-up rules (type, allowed and
 * denied countries). A failure names the message the person sees and its machine-readable context.
 */
export function checkPhone(value: string, region: ResolvedRegion, rules: PhoneRuleOptions): PhoneCheck {
  const result = toE164(value, region.region);
  if (!result.ok) {
    if (result.reason === "extension") return { ok: false, key: "PHONE_EXTENSION_NOT_SUPPORTED", context: { reason: "extension" } };
    if (result.reason === "invalid") {
      return { ok: false, key: "PHONE_INVALID", context: { reason: "invalid_phone", detail: result.detail ?? "INVALID_NUMBER" } };
    }
    return region.unknown === undefined
      ? { ok: false, key: "PHONE_NEEDS_INTERNATIONAL_FORMAT", context: { reason: "region_required" } }
      : { ok: false, key: "PHONE_REGION_UNKNOWN", context: { reason: "unknown_region", region: region.unknown } };
  }
  if (rules.allowedTypes !== null) {
    const type = result.type ?? "UNKNOWN";
    if (!(rules.allowedTypes as readonly string[]).includes(type)) {
      return { ok: false, key: "PHONE_TYPE_NOT_ALLOWED", context: { reason: "type_not_allowed", type, allowed: rules.allowedTypes } };
    }
  }
  const country = result.country ?? null;
  if (rules.allowedCountries !== null && (country === null || !(rules.allowedCountries as readonly string[]).includes(country))) {
    return {
      ok: false,
      key: "PHONE_COUNTRY_NOT_ALLOWED",
      context: { reason: "country_not_allowed", country, allowed: rules.allowedCountries },
    };
  }
  if (country !== null && (rules.deniedCountries as readonly string[]).includes(country)) {
    return { ok: false, key: "PHONE_COUNTRY_DENIED", context: { reason: "country_denied", country } };
  }
  return { ok: true, e164: result.e164, country: result.country };
}
