// The essential work of one hook answer with no framework, shared by the "limit" (bare node:http)
// and the Express server: check the key, parse the phone with the same libphonenumber-js call,
// route, answer with the same bytes as kratos-hooks. Written for speed, not for completeness: it
// knows only the three benchmark workloads.
import { disposableEmailBlocklist } from "disposable-email-domains-js";
import { parsePhoneNumberFromString } from "libphonenumber-js/max";

const AUTHORIZATION = `Bearer ${process.env.BENCH_KEY}`;
const DISPOSABLE = new Set(disposableEmailBlocklist());
const DISPOSABLE_TEXT = "Disposable email addresses cannot be used. Enter an address you will keep.";

/** @returns {{ status: number, body: string | null }} */
export function handle(hook, authorization, body) {
  if (authorization !== AUTHORIZATION) return { status: 401, body: '{"error":"unauthorized"}' };
  if (hook === "login-after") return { status: 204, body: null };
  if (hook !== "registration-after") return { status: 404, body: null };
  const traits = body.identity.traits;
  if (typeof traits.email === "string") {
    const domain = traits.email.slice(traits.email.lastIndexOf("@") + 1).toLowerCase();
    if (DISPOSABLE.has(domain)) {
      const message = { id: 4100101, text: DISPOSABLE_TEXT, type: "error", context: { reason: "disposable_domain", domain } };
      return { status: 422, body: JSON.stringify({ messages: [{ instance_ptr: "#/traits/email", messages: [message] }] }) };
    }
    return { status: 200, body: '{"identity":{"schema_id":"email"}}' };
  }
  const phone = parsePhoneNumberFromString(traits.phone, body.flow.transient_payload?.phone_region);
  if (!phone?.isValid()) return { status: 422, body: '{"messages":[]}' };
  return { status: 200, body: JSON.stringify({ identity: { schema_id: "phone", traits: { phone: phone.number } } }) };
}
