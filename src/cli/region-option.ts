import type { CountryCode } from "libphonenumber-js/max";
import { isPhoneRegion } from "../core/phone.js";
import { UsageError } from "./usage.js";

// Its own module, not usage.ts: usage.ts is imported by kratos-binary.ts, which runs standalone
// (test/cli/kratos-binary.test.ts copies it and the modules it imports) and must not need
// libphonenumber.

/** `--region XX`: a region libphonenumber knows (`de` is DE), or undefined when not given. */
export function parseRegion(value: string | undefined): CountryCode | undefined {
  if (value === undefined) return undefined;
  const code = value.trim().toUpperCase();
  if (!isPhoneRegion(code))
    throw new UsageError(`--region: expected an ISO 3166-1 alpha-2 region such as DE, found ${JSON.stringify(value)}`);
  return code;
}
