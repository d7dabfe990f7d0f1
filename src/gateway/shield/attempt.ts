import type { CountryCode } from "libphonenumber-js/max";
import { toE164 } from "../../core/phone.js";
import type { SelfServiceFlow } from "../../kratos/self-service.js";

/** How the client reads Kratos's answers, as Kratos decides it (`x.IsJSONRequest`): JSON, or a browser form post (303). */
export type ClientKind = "json" | "form";

/** Where a code goes when Kratos sends one for this submission. */
export interface CodeDestination {
  channel: "sms";
  /** The number, E.164. */
  to: string;
}

/**
 * One self-service submission as the shield reads it (and your gateway rules, `c.get("attempt")`):
 * read-only, from the very fields Kratos decodes, after the gateway's rewriting.
 */
export interface Attempt {
  readonly flow: SelfServiceFlow;
  /** `?flow=` as Kratos reads it (the first value), or undefined. */
  readonly flowId: string | undefined;
  /** The `method` field (`password`, `code`, `profile`, …), or undefined. */
  readonly method: string | undefined;
  /**
   * The login identifier as Kratos compares it: a phone number in E.164 (read in the request's
   * region when written nationally), anything else trimmed and lower-cased (Kratos's folding of
   * password identifiers and emails). Undefined when the submission has none (registration, …).
   */
  readonly identifier: string | undefined;
  readonly identifierKind: "phone" | "email" | "other" | undefined;
  /** Whether the submission carries a secret Kratos checks (a password, a code, a TOTP or lookup code). */
  readonly checksCredential: boolean;
  /** The client's address as the gateway determined it (`clientAddress`), or undefined. */
  readonly clientAddress: string | undefined;
  readonly clientKind: ClientKind;
  /** Where Kratos will send a code by SMS for this submission, if it will. */
  readonly sends: CodeDestination | undefined;
}

/** The identifier as Kratos compares it: E.164 for a phone number, else trimmed and lower-cased. */
export function foldIdentifier(raw: string, region: CountryCode | undefined): { value: string; kind: "phone" | "email" | "other" } {
  const phone = toE164(raw, region);
  if (phone.ok) return { value: phone.e164, kind: "phone" };
  const folded = raw.trim().toLowerCase();
  return { value: folded, kind: folded.includes("@") ? "email" : "other" };
}

/** Kratos's `x.IsJSONRequest`: the Content-Type is JSON, or the Accept header asks for JSON. */
export function clientKindOf(contentType: string | undefined, accept: string | undefined): ClientKind {
  const media = contentType?.split(";", 1)[0]?.trim().toLowerCase();
  if (media === "application/json") return "json";
  return accept?.toLowerCase().includes("application/json") ? "json" : "form";
}

const CREDENTIAL_FIELDS = ["password", "code", "totp_code", "lookup_secret"];

export interface AttemptInput {
  flow: SelfServiceFlow;
  flowId: string | undefined;
  fields: ReadonlyMap<string, string>;
  /** The configured phone traits (`normalizePhone.fields`). */
  phoneTraits: readonly string[];
  region: CountryCode | undefined;
  clientAddress: string | undefined;
  clientKind: ClientKind;
}

/**
 * The attempt a submission is. Which submits make Kratos send an SMS (docs/shield.md#sms-budgets):
 * - login by code without a code (step 1), or with `resend`, to a phone identifier;
 * - registration by code without a code (v25.4+), and any other registration carrying a phone
 *   trait (Kratos sends a verification code after it when the trait is verified by SMS);
 * - settings (profile) carrying a phone trait (a changed number is verified again);
 * - recovery by code to a phone `recovery_address` (v25.4+).
 */
export function readAttempt(input: AttemptInput): Attempt {
  const { fields, flow } = input;
  const get = (name: string) => {
    const value = fields.get(name);
    return value === undefined || value === "" ? undefined : value;
  };
  const method = get("method");
  // Whom Kratos checks the secret for: a code login's second step looks the identity up from
  // `address || identifier`, every other login from `identifier` (then the legacy
  // `password_identifier`; contract §9.1).
  const codeStep = method === "code" && get("code") !== undefined;
  const rawIdentifier =
    flow !== "login"
      ? undefined
      : codeStep
        ? (get("address") ?? get("identifier"))
        : (get("identifier") ?? get("password_identifier") ?? get("address"));
  const folded = rawIdentifier === undefined ? undefined : foldIdentifier(rawIdentifier, input.region);
  const checksCredential = CREDENTIAL_FIELDS.some((name) => get(name) !== undefined);
  const phoneOf = (raw: string | undefined): CodeDestination | undefined => {
    if (raw === undefined) return undefined;
    const phone = toE164(raw, input.region);
    return phone.ok ? { channel: "sms", to: phone.e164 } : undefined;
  };
  const firstPhoneTrait = () => {
    for (const trait of input.phoneTraits) {
      const sent = phoneOf(get(`traits.${trait}`));
      if (sent !== undefined) return sent;
    }
    return undefined;
  };
  let sends: CodeDestination | undefined;
  const noCode = get("code") === undefined;
  switch (flow) {
    case "login":
      if (method === "code" && (noCode || get("resend") !== undefined) && folded?.kind === "phone")
        sends = { channel: "sms", to: folded.value };
      break;
    case "registration":
      if (method !== "code" || noCode) sends = firstPhoneTrait();
      break;
    case "settings":
      if (method === "profile") sends = firstPhoneTrait();
      break;
    case "recovery":
      if (noCode) sends = phoneOf(get("recovery_address"));
      break;
    case "verification":
      break;
  }
  return {
    flow,
    flowId: input.flowId,
    method,
    identifier: folded?.value,
    identifierKind: folded?.kind,
    checksCredential,
    clientAddress: input.clientAddress,
    clientKind: input.clientKind,
    sends,
  };
}
