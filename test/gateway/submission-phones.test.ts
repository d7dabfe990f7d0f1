import { describe, expect, it } from "vitest";
import { resolvePhoneRegion } from "../../src/core/phone-region.js";
import { Refused } from "../../src/gateway/refusals.js";
import { phoneFieldsOf, readSubmission } from "../../src/gateway/submission.js";
import { findPhones } from "../../src/gateway/submission-phones.js";
import { forwardedBytes, readBody, readForm, spliced } from "../../src/gateway/submission-sources.js";

const utf8 = (text: string) => new TextEncoder().encode(text);
const LOGIN = phoneFieldsOf("login", []);
const REGISTRATION = phoneFieldsOf("registration", ["phone"]);

/** The phone fields of a query and a body, as `findPhones` lists them. */
function phonesOf(fields: ReadonlySet<string>, query: string, body?: { format: "json" | "form"; text: string }) {
  const read = readForm(query);
  const bodyRead = body === undefined ? undefined : readBody({ format: body.format, bytes: utf8(body.text) });
  const { phones, picked } = findPhones([...read.entries, ...(bodyRead?.entries ?? [])], bodyRead, fields);
  return { phones: phones.map((p) => [p.field, p.value]), picked };
}

/** The refusal `findPhones` throws, or undefined. */
function refusalOf(fields: ReadonlySet<string>, query: string, body?: { format: "json" | "form"; text: string }) {
  try {
    phonesOf(fields, query, body);
    return undefined;
  } catch (error) {
    if (error instanceof Refused) return error.refusal;
    throw error;
  }
}

describe("findPhones: the phone fields as Kratos reads them", () => {
  it("matches keys exactly, as Kratos's decoder does: a key in another case is no phone field", () => {
    expect(phonesOf(LOGIN, "", { format: "json", text: '{"Identifier":"0176 1234 5678"}' }).phones).toEqual([]);
    expect(phonesOf(LOGIN, "", { format: "form", text: "IDENTIFIER=0176+1234+5678" }).phones).toEqual([]);
    expect(phonesOf(REGISTRATION, "", { format: "json", text: '{"Traits":{"phone":"0176"},"traits":{"Phone":"0176"}}' }).phones).toEqual(
      [],
    );
  });

  it("a key in another case is forwarded as sent even where the region would rewrite it", () => {
    const bytes = utf8('{"Identifier":"0176 1234 5678","password":"p"}');
    const regionOf = (picked: unknown) => resolvePhoneRegion({ picked }, { defaultRegion: "DE", regionHeader: null });
    const result = readSubmission({ query: "", body: { format: "json", bytes }, fields: LOGIN }, regionOf);
    expect(result).toMatchObject({ ok: true, body: bytes, rewritten: [] });
    expect(result.ok && [...result.fields.keys()]).toEqual(["Identifier", "password"]);
  });

  it("lists the query's fields, the body's top-level fields, then the fields nested in the body", () => {
    const body = '{"traits":{"phone":"0176 2"},"method":"password"}';
    expect(phonesOf(phoneFieldsOf("registration", ["phone", "mobile"]), "traits.mobile=0176+1", { format: "json", text: body })).toEqual({
      phones: [
        ["traits.mobile", "0176 1"],
        ["traits.phone", "0176 2"],
      ],
      picked: undefined,
    });
  });

  it("picks the region from transient_payload: the last of duplicate keys in a JSON object, or a form's JSON text", () => {
    const json = '{"transient_payload":{"phone_region":"FR","phone_region":"DE"}}';
    expect(phonesOf(LOGIN, "", { format: "json", text: json }).picked).toBe("DE");
    const form = `transient_payload=${encodeURIComponent('{"phone_region":"FR"}')}`;
    expect(phonesOf(LOGIN, "", { format: "form", text: form }).picked).toBe("FR");
    expect(phonesOf(LOGIN, "", { format: "json", text: '{"transient_payload":{"x":{"phone_region":"FR"}}}' }).picked).toBeUndefined();
  });

  it.each([
    [
      "a phone field in the query and the body",
      LOGIN,
      "identifier=1",
      { format: "json", text: '{"identifier":"2"}' },
      "phone_field_repeated",
    ],
    [
      "a trait dotted and nested",
      REGISTRATION,
      "",
      { format: "json", text: '{"traits.phone":"1","traits":{"phone":"2"}}' },
      "phone_field_repeated",
    ],
    [
      "a nested phone that is a number",
      REGISTRATION,
      "",
      { format: "json", text: '{"traits":{"phone":15550001}}' },
      "phone_field_not_string",
    ],
    [
      "an object field twice",
      LOGIN,
      "transient_payload=%7B%7D",
      { format: "form", text: "transient_payload=%7B%7D" },
      "object_field_repeated",
    ],
    ["an object text with a phone in it", REGISTRATION, "traits=%7B%22phone%22%3A%221%22%7D", undefined, "phone_field_in_json_text"],
    ["an object text that is two", LOGIN, "transient_payload=%7B%7D%2C%7B%7D", undefined, "object_text_not_one_object"],
  ] as const)("refuses %s", (_, fields, query, body, refusal) => {
    expect(refusalOf(fields, query, body)).toBe(refusal);
  });
  it("a phone field repeated inside a nested object more often than a call takes arguments is refused, not a crash", () => {
    const text = `{"traits":{${Array.from({ length: 300_000 }, () => '"phone":"1"').join(",")}}}`;
    expect(refusalOf(REGISTRATION, "", { format: "json", text })).toBe("phone_field_repeated");
  });
});

describe("submission sources: splicing", () => {
  it("replaces only the spliced ranges, in offset order, whatever order they were added in", () => {
    const { source } = readForm("a=1&b=22&c=3");
    source.splices.push({ start: 11, end: 12, value: "x", field: "c" }, { start: 2, end: 3, value: "yy", field: "a" });
    expect(spliced(source)).toBe("a=yy&b=22&c=x");
  });

  it("forwards the very bytes received when nothing was spliced, and a form's other bytes unchanged when something was", () => {
    const bytes = new Uint8Array([...utf8("p="), 0xff, 0xfe, ...utf8("&identifier=1")]);
    const { source } = readBody({ format: "form", bytes });
    expect(forwardedBytes(source, bytes)).toBe(bytes);
    source.splices.push({ start: 16, end: 17, value: "%2B2", field: "identifier" });
    expect([...forwardedBytes(source, bytes)]).toEqual([...utf8("p="), 0xff, 0xfe, ...utf8("&identifier=%2B2")]);
  });
});
