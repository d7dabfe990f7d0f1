import { type PhoneNumber, parsePhoneNumberFromString } from "libphonenumber-js/max";
import type { ShieldConfig } from "../../config/schema.js";
import type { Attempt } from "./attempt.js";
import { type AfterAnswer, type CheckDeps, SECOND, type ShieldCheck, type ShieldReason } from "./check.js";
import { clientKey } from "./keys.js";
import type { Outcome } from "./outcome.js";
import type { CounterHit } from "./store.js";

/** What the SMS budgets count with: the checks' store, pseudonyms and clock, `shield.sms`, and where codes may go. */
export interface SmsDeps extends CheckDeps {
  sms: ShieldConfig["sms"];
  /** `shield.sms.refuseTypes`. */
  refuseTypes: ReadonlySet<string>;
  /** `normalizePhone.allowedCountries` and `deniedCountries`. */
  allowedCountries: readonly string[] | null;
  deniedCountries: readonly string[];
}

/** One budget a code-sending submit spends: the refusal when it is spent, its counter, and its limit. */
type Budget = [reason: ShieldReason, hit: CounterHit, limit: number];

/** Why a number is never sent a code, whatever the budgets: its type or its country. */
function refusedNumber(deps: SmsDeps, number: PhoneNumber): ShieldReason | undefined {
  const type = number.getType() ?? "UNKNOWN";
  if (deps.refuseTypes.has(type)) return "sms_number_type";
  const country = number.country;
  if (deps.allowedCountries !== null && (country === undefined || !deps.allowedCountries.includes(country))) return "sms_country";
  if (country !== undefined && deps.deniedCountries.includes(country)) return "sms_country";
  return undefined;
}

/**
 * The budgets of a code to `to`: per client (when counted per client), number, number block,
 * country, and in all per minute; and the number's pseudonym, the log line's subject.
 */
async function budgetsOf(
  deps: SmsDeps,
  to: string,
  number: PhoneNumber,
  address: string | undefined,
): Promise<{ subject: string; budgets: Budget[] }> {
  const { sms, pseudonyms } = deps;
  const smsWindow = sms.windowSeconds * SECOND;
  const [num, prefix, cl] = await Promise.all([
    pseudonyms.of("number", to),
    pseudonyms.of("prefix", to.slice(0, -sms.prefixHiddenDigits)),
    address === undefined ? undefined : pseudonyms.of("client", address),
  ]);
  const budgets: Budget[] = [
    ...(cl === undefined ? [] : [["sms_client_budget", { key: `kh:s:c:${cl}`, windowMs: smsWindow }, sms.perClient] as Budget]),
    ["sms_number_budget", { key: `kh:s:n:${num}`, windowMs: smsWindow }, sms.perNumber],
    ["sms_prefix_budget", { key: `kh:s:p:${prefix}`, windowMs: smsWindow }, sms.perPrefix],
    ["sms_country_budget", { key: `kh:s:cc:${number.countryCallingCode}`, windowMs: smsWindow }, sms.perCountry],
    ["sms_global_budget", { key: "kh:s:g", windowMs: 60 * SECOND }, sms.perMinute],
  ];
  return { subject: num, budgets };
}

/**
 * SMS budgets on one code-sending submit (docs/shield.md#sms-budgets): a number of a refused type
 * or country is refused outright; else each budget is counted at once, before the submit is
 * forwarded, and refused when one is spent. A code that was not sent after all (the form shown
 * again: a validation error, a wrong code, an unknown account) or that the shield refused is
 * forgiven, so that a person who corrects a form spends no budget on it.
 */
export async function checkSms(deps: SmsDeps, attempt: Attempt, perClient: boolean): Promise<ShieldCheck> {
  const to = attempt.sends?.to;
  if (to === undefined) return {};
  const field = attempt.flow === "login" ? "identifier" : attempt.flow === "recovery" ? "recovery_address" : undefined;
  const refuse = (reason: ShieldReason, retryAt?: number): ShieldCheck => ({ refusal: { reason, retryAt, ...(field && { field }) } });
  const number = parsePhoneNumberFromString(to);
  if (number === undefined) return {};
  const refused = refusedNumber(deps, number);
  if (refused !== undefined) return refuse(refused);
  const at = deps.now();
  const { subject, budgets } = await budgetsOf(deps, to, number, perClient ? clientKey(attempt.clientAddress) : undefined);
  const counters = await deps.store.hit(
    budgets.map(([, hit]) => hit),
    at,
  );
  const keys = budgets.map(([, hit]) => hit.key);
  for (const [i, [reason, , limit]] of budgets.entries()) {
    const counter = counters[i];
    if (counter !== undefined && counter.count - counter.forgiven > limit) {
      await deps.store.forgive(keys, deps.now());
      return { ...refuse(reason, counter.resetAt), subject };
    }
  }
  const after = async (outcome: Outcome): Promise<AfterAnswer> => {
    const notSent = outcome.kind === "credential_failure" || (outcome.kind === "other" && outcome.shownAgain === true);
    return { write: notSent ? () => deps.store.forgive(keys, deps.now()) : async () => undefined };
  };
  return { after, subject };
}
