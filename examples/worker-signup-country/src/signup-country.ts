import { definePolicy, type JsonObject, normalizePhoneNumber, type Policy, patchMetadataPublic, proceed } from "kratos-hooks";

/** The KV key counting sign-ups from one country: `country:DE`. */
export function counterKey(country: string): string {
  return `country:${country}`;
}

/** A trait by its path as in the identity schema: `phone`, or `address.mobile` for a nested one. */
function traitAt(traits: JsonObject, path: string): unknown {
  let value: unknown = traits;
  for (const part of path.split(".")) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    value = (value as JsonObject)[part];
  }
  return value;
}

/**
 * On registration-after: tags the new identity's `metadata_public.signup_country` with the
 * country of its phone number and counts the sign-up in KV under `country:<CC>`.
 *
 * It runs after the built-in policies, so the phone trait is already in E.164 (normalizePhone
 * patched it, and a number it refused never reaches this policy). `fields` are the phone traits,
 * the same as the configuration's `normalizePhone.fields`; the first one set is used.
 *
 * The count is a read-modify-write on an eventually consistent store: two sign-ups at once, or
 * at two edge locations, can count as one. It is an approximate figure, not a ledger.
 */
export function signupCountry(counts: KVNamespace, fields: readonly string[] = ["phone"]): Policy {
  return definePolicy({
    name: "signup-country",
    hooks: ["registration-after"],
    async decide(input, { signal, logger }) {
      const phone = fields.map((field) => traitAt(input.identity.traits, field)).find((v) => typeof v === "string" && v !== "");
      if (typeof phone !== "string") return proceed();
      const parsed = normalizePhoneNumber(phone);
      // Not in E.164 (normalizePhone switched off) or a non-geographic number (+800…): no country.
      if (!parsed.ok || parsed.country === undefined) return proceed();
      const country = parsed.country;

      // KV's get and put take no AbortSignal: check it around them instead. Once the budget is
      // spent the answer is already decided (failMode), and a write then would count a sign-up
      // Kratos may not complete.
      signal.throwIfAborted();
      const key = counterKey(country);
      const current = Number.parseInt((await counts.get(key)) ?? "0", 10);
      signal.throwIfAborted();
      await counts.put(key, String((Number.isSafeInteger(current) ? current : 0) + 1));
      logger.info({ policy: "signup-country", country }, "sign-up counted");

      return patchMetadataPublic(input, { signup_country: country });
    },
  });
}
