import * as z from "zod";
import { HTTP_TOKEN } from "../core/http-token.js";
import { isPhoneRegion } from "../core/phone.js";

// The value types several config keys share, each with the message an operator reads when a value
// does not fit (src/validation/ names the key).

export const region = z.string().refine(isPhoneRegion, { error: 'expected an upper-case ISO 3166-1 alpha-2 region code such as "DE"' });
export const traitPath = z
  .string()
  .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, { error: 'expected a trait name such as "phone" or "contact.mobile"' });
export const domain = z.string().regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/, {
  error: 'expected a lower-case domain name such as "example.com"',
});
export const schemaId = z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'expected a schema id such as "phone"' });
export const headerName = z.string().regex(HTTP_TOKEN, { error: "expected an HTTP header name" });
export const regexSource = z.string().refine(
  (source) => {
    try {
      new RegExp(source, "iu");
      return true;
    } catch {
      return false;
    }
  },
  { error: "expected a valid regular expression (JavaScript syntax, flags iu)" },
);

/** Compile-time proof that a schema's output fits the option type core owns (a mismatch fails `tsc`). */
export type Fits<Output extends Owned, Owned> = Output;
