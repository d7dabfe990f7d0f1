import type { IdentityView } from "./decision.js";
import { getPath } from "./json.js";
import { maskEmail, maskPhone } from "./redact.js";

/** The trait paths that hold the person's phone number and email address, in order of preference. */
export interface SubjectFields {
  phone: readonly string[];
  email: readonly string[];
}

function firstString(traits: IdentityView["traits"], paths: readonly string[]): string | undefined {
  for (const path of paths) {
    const value = getPath(traits, path);
    if (typeof value === "string" && value.trim() !== "") return value;
  }
  return undefined;
}

/**
 * The masked phone number and email address of the identity (the first of each field list that
 * holds one), so a log line can be matched to a person's report without holding either in clear.
 */
export function toSubject(identity: IdentityView | undefined, fields: SubjectFields): { phone?: string; email?: string } | undefined {
  if (identity === undefined) return undefined;
  const phone = firstString(identity.traits, fields.phone);
  const email = firstString(identity.traits, fields.email);
  return {
    ...(phone === undefined ? {} : { phone: maskPhone(phone) }),
    ...(email === undefined ? {} : { email: maskEmail(email) }),
  };
}
