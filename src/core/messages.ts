/**
 * What a message is about, read where a message's kind decides something (the backfill tells an
 * invalid phone number from a refusal by it): `phone` a number not usable as typed, `email` an
 * address's domain, `access` a refused login or request, `schema` the identity schema, `shield`
 * the gateway's shield, `service` the hooks themselves (time budget, a policy's failure).
 */
export type MessageCategory = "phone" | "email" | "access" | "schema" | "shield" | "service";

/**
 * Every message a person can see comes from this table. Ids are stable integers in our own
 * block, `OUR_MESSAGE_ID_BLOCK` in message-ids.ts, which lies outside every block Kratos
 * allocates, so a UI that localises Kratos ids never swaps in a Kratos text for ours
 * (test/docs.test.ts checks each id with `isOurMessageId` and `isKratosMessageId`).
 * Never renumber or reuse an id: UIs and analytics key on them.
 *
 * ```ts
 * import { MESSAGES } from "kratos-hooks";
 * MESSAGES.PHONE_INVALID.id; // 4100001, what a UI localises by
 * MESSAGES.PHONE_INVALID.text; // the English text, for a UI without a translation
 * ```
 */
export const MESSAGES = {
  PHONE_INVALID: {
    category: "phone",
    id: 4100001,
    text: "This phone number is not valid. Check the digits and the country code.",
  },
  PHONE_NEEDS_INTERNATIONAL_FORMAT: {
    category: "phone",
    id: 4100002,
    text: "Enter the phone number in international format, starting with + and the country code (for example +49 176 12345678).",
  },
  PHONE_EXTENSION_NOT_SUPPORTED: {
    category: "phone",
    id: 4100003,
    text: "Phone numbers with an extension are not supported. Remove the extension and try again.",
  },
  PHONE_TYPE_NOT_ALLOWED: {
    category: "phone",
    id: 4100004,
    text: "This kind of phone number cannot be used here. Enter a mobile number that can receive text messages.",
  },
  PHONE_COUNTRY_NOT_ALLOWED: {
    category: "phone",
    id: 4100005,
    text: "Phone numbers from this country are not supported yet. Enter a number from a supported country.",
  },
  PHONE_COUNTRY_DENIED: {
    category: "phone",
    id: 4100006,
    text: "Phone numbers from this country cannot be used here.",
  },
  PHONE_REGION_UNKNOWN: {
    category: "phone",
    id: 4100007,
    text: "The selected country is not recognised. Choose your country again, or enter the number starting with +.",
  },
  EMAIL_DOMAIN_DISPOSABLE: {
    category: "email",
    id: 4100101,
    text: "Disposable email addresses cannot be used. Enter an address you will keep.",
  },
  EMAIL_DOMAIN_DENIED: {
    category: "email",
    id: 4100102,
    text: "Email addresses at this domain cannot be used here.",
  },
  EMAIL_DOMAIN_NOT_ALLOWED: {
    category: "email",
    id: 4100103,
    text: "Use an email address at one of the accepted domains.",
  },
  LOGIN_DENIED: {
    category: "access",
    id: 4100201,
    text: "Signing in to this account is not possible. Contact support if you think this is a mistake.",
  },
  REQUEST_DENIED: {
    category: "access",
    id: 4100202,
    text: "This request cannot be processed. Try again from a supported browser or app.",
  },
  SCHEMA_NOT_ALLOWED: {
    category: "schema",
    id: 4100301,
    text: "This account type is not available with the details you entered.",
  },
  SCHEMA_TRAITS_INVALID: {
    category: "schema",
    id: 4100302,
    text: "The details you entered do not fit this account type. Check the highlighted fields.",
  },
  SCHEMA_CONFLICT: {
    category: "schema",
    id: 4100303,
    text: "These details belong to a different account type. Go back and choose the sign-up option that matches them.",
  },
  SHIELD_LOGIN_DELAYED: {
    category: "shield",
    id: 4100401,
    text: "Too many failed sign-in attempts. Please wait before you try again.",
  },
  SHIELD_LOGIN_LOCKED: {
    category: "shield",
    id: 4100402,
    text: "Too many failed sign-in attempts for this account. Sign-in is paused; you can reset your password meanwhile.",
  },
  SHIELD_CLIENT_LOCKED: {
    category: "shield",
    id: 4100403,
    text: "Too many failed sign-in attempts from your network. Sign-in from it is paused.",
  },
  SHIELD_SMS_BUDGET: {
    category: "shield",
    id: 4100411,
    text: "Too many codes were requested. Please wait before you request another one.",
  },
  SHIELD_SMS_NUMBER_TYPE: {
    category: "shield",
    id: 4100412,
    text: "We cannot send a code to this kind of number. Enter a mobile number.",
  },
  SHIELD_SMS_COUNTRY: {
    category: "shield",
    id: 4100413,
    text: "We cannot send codes to phone numbers from this country.",
  },
  SHIELD_UNAVAILABLE: {
    category: "shield",
    id: 4100420,
    text: "Sign-in is briefly unavailable. Please try again in a minute.",
  },
  HOOK_TIMEOUT: {
    category: "service",
    id: 4100901,
    text: "We could not finish checking your details in time. Please try again.",
  },
  HOOK_FAILED: {
    category: "service",
    id: 4100902,
    text: "We could not check your details right now. Please try again.",
  },
} as const satisfies Record<string, { category: MessageCategory; id: number; text: string }>;

/** The key of one of kratos-hooks's own messages (`PHONE_INVALID`, …); `denyField(field, key)` takes one. */
export type MessageKey = keyof typeof MESSAGES;
