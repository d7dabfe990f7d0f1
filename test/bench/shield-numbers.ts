// Phone numbers for the shield benchmark, each checked with libphonenumber-js (`max` metadata,
// what the gateway uses): a population of real mobile numbers, and the ranges SMS pumping goes
// for (premium-rate ranges, and sequential numbers of one mobile block).
import { type CountryCode, type NumberType, parsePhoneNumberFromString } from "libphonenumber-js/max";

/** Where real sign-ups come from: a country, and the start of its mobile numbers (E.164 digits after the `+`). */
const MOBILE_RANGES: readonly { country: CountryCode; start: string[]; digits: number }[] = [
  { country: "DE", start: ["4915", "4916", "4917"], digits: 12 },
  { country: "GB", start: ["447"], digits: 12 },
  { country: "FR", start: ["336", "337"], digits: 11 },
  { country: "IT", start: ["393"], digits: 12 },
  { country: "ES", start: ["346"], digits: 11 },
  { country: "NL", start: ["316"], digits: 11 },
  { country: "PL", start: ["485", "486", "487", "488"], digits: 11 },
  { country: "US", start: ["1"], digits: 11 },
];

const MOBILE_TYPES = new Set<NumberType>(["MOBILE", "FIXED_LINE_OR_MOBILE"]);

function digits(count: number, rng: () => number): string {
  let out = "";
  for (let i = 0; i < count; i++) out += Math.floor(rng() * 10);
  return out;
}

export interface PhoneNumber {
  e164: string;
  country: CountryCode;
}

/** A random valid mobile number (type MOBILE, or FIXED_LINE_OR_MOBILE where a country does not tell them apart). */
export function randomMobile(rng: () => number): PhoneNumber {
  for (;;) {
    const range = MOBILE_RANGES[Math.floor(rng() * MOBILE_RANGES.length)] as (typeof MOBILE_RANGES)[number];
    const start = range.start[Math.floor(rng() * range.start.length)] as string;
    const e164 = `+${start}${digits(range.digits - start.length, rng)}`;
    const parsed = parsePhoneNumberFromString(e164);
    const type = parsed?.getType();
    if (parsed?.isValid() && type !== undefined && MOBILE_TYPES.has(type) && parsed.country === range.country) {
      return { e164: parsed.number, country: range.country };
    }
  }
}

/** How a person types their number: E.164, spaced international, or national (with the country from the form or a header). */
export type Typed = { value: string; region?: { via: "form" | "header"; country: CountryCode } };

export function typed(phone: PhoneNumber, rng: () => number): Typed {
  const parsed = parsePhoneNumberFromString(phone.e164);
  if (parsed === undefined) throw new Error(`not a number: ${phone.e164}`);
  const pick = Math.floor(rng() * 4);
  if (pick === 0) return { value: phone.e164 };
  if (pick === 1) return { value: parsed.formatInternational() };
  return { value: parsed.formatNational(), region: { via: pick === 2 ? "form" : "header", country: phone.country } };
}

/** A range SMS pumping sends to: its name, and a generator of its next number. */
export interface PumpRange {
  name: string;
  kind: "premium-rate" | "mobile block";
  next(rng: () => number): string;
}

/** Premium-rate ranges: E.164 digits a number starts with, and its length. Each checked to be PREMIUM_RATE. */
const PREMIUM: readonly [string, string, number][] = [
  ["GB 0909 879", "449098790", 12],
  ["DE 0900 1", "4990012", 12],
  ["FR 089", "3389", 11],
  ["IT 899", "39899", 11],
  ["AT 0900", "43900", 12],
  ["CH 0900", "41900", 11],
  ["NL 0900", "31900", 11],
  ["BE 0902", "32902", 10],
  ["PL 701", "48701", 11],
  ["US 1-900", "1900", 11],
];

/** Mobile blocks pumped in sequence: all digits but the last three fixed (one block of 1,000 numbers). */
const BLOCKS: readonly [string, string][] = [
  ["GB 07400 123 xxx", "447400123"],
  ["DE 0151 1234 5xxx", "4915112345"],
  ["FR 06 12 34 5x xx", "33612345"],
  ["IT 347 123 4xxx", "393471234"],
  ["ES 612 34 5x xx", "34612345"],
  ["NL 06 1234 5xxx", "31612345"],
  ["PL 601 234 xxx", "48601234"],
  ["RO 0721 234 xxx", "40721234"],
  ["NG 0803 123 4xxx", "2348031234"],
  ["PH 0917 123 4xxx", "639171234"],
];

/** The 20 ranges of the pumping scenario, every generated number valid and of the range's type. */
export function pumpRanges(): PumpRange[] {
  const check = (e164: string, type: NumberType, name: string): string => {
    const parsed = parsePhoneNumberFromString(e164);
    if (!parsed?.isValid() || parsed.getType() !== type) throw new Error(`${name}: ${e164} is not a valid ${type} number`);
    return parsed.number;
  };
  const premium = PREMIUM.map(
    ([name, start, length]): PumpRange => ({
      name,
      kind: "premium-rate",
      next: (rng) => {
        for (let attempt = 0; ; attempt++) {
          const e164 = `+${start}${digits(length - start.length, rng)}`;
          const parsed = parsePhoneNumberFromString(e164);
          if (parsed?.isValid() && parsed.getType() === "PREMIUM_RATE") return parsed.number;
          if (attempt > 1000) return check(e164, "PREMIUM_RATE", name);
        }
      },
    }),
  );
  const blocks = BLOCKS.map(([name, start]): PumpRange => {
    let n = 0;
    return {
      name,
      kind: "mobile block",
      next: () => check(`+${start}${String(n++ % 1000).padStart(3, "0")}`, "MOBILE", name),
    };
  });
  return [...premium, ...blocks];
}
