import fc from "fast-check";
import { getExampleNumber } from "libphonenumber-js/max";
import examples from "libphonenumber-js/mobile/examples";
import { describe, expect, it } from "vitest";
import { toE164 } from "../../src/core/phone.js";
import { resolvePhoneRegion } from "../../src/core/phone-region.js";
import { scanJsonObject } from "../../src/gateway/json-members.js";
import type { Refusal } from "../../src/gateway/refusals.js";
import { bodyFormatOf, phoneFieldsOf, type RegionOf, readSubmission } from "../../src/gateway/submission.js";
import type { SelfServiceFlow } from "../../src/kratos/self-service.js";

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);

/** The region as the gateway resolves it: the body's pick, then a default (standing in for a header or defaultRegion). */
const regionOf =
  (fallback: string | null = null): RegionOf =>
  (picked) =>
    resolvePhoneRegion({ picked }, { defaultRegion: fallback as never, regionHeader: null });

/** Reads a body (and a query) as the gateway does; a refusal comes back as `{ refused }`. */
function read(
  flow: SelfServiceFlow,
  format: "json" | "form",
  body: string | Uint8Array,
  fallback: string | null = null,
  traits = ["phone"],
  query = "",
) {
  const bytes = typeof body === "string" ? utf8(body) : body;
  const result = readSubmission({ query, body: { format, bytes }, fields: phoneFieldsOf(flow, traits) }, regionOf(fallback));
  if (!result.ok) return { refused: result.refusal };
  return { body: text(result.body ?? new Uint8Array()), fields: result.rewritten, same: result.body === bytes, query: result.query };
}

function rewrite(flow: SelfServiceFlow, format: "json" | "form", body: string, fallback: string | null = null, traits = ["phone"]) {
  const result = read(flow, format, body, fallback, traits);
  if ("refused" in result) throw new Error(`refused: ${result.refused}`);
  return { body: result.body, fields: result.fields, same: result.same };
}

/** The refusal for a body, or undefined when it is read. */
function refusalOf(flow: SelfServiceFlow, format: "json" | "form", body: string | Uint8Array, query = ""): Refusal | undefined {
  const result = read(flow, format, body, "DE", ["phone"], query);
  return "refused" in result ? result.refused : undefined;
}

describe("gateway rewrite: login bodies (JSON)", () => {
  it.each([
    ["national, with phone_region", '{"identifier":"0176 1234 5678","transient_payload":{"phone_region":"DE"}}', "+4917612345678"],
    ["national, region from a header or defaultRegion", '{"identifier":"0176 1234 5678"}', "+4917612345678", "DE"],
    ["spaced international with brackets", '{"identifier":"+49 (176) 1234-5678"}', "+4917612345678"],
    ["00 prefix", '{"identifier":"0049 176 1234 5678"}', "+4917612345678"],
    ["a tel: URI", '{"identifier":"tel:+49-176-1234-5678"}', "+4917612345678"],
    ["JSON escapes in the value", '{"identifier":"\\u002b49 176 1234 5678"}', "+4917612345678"],
    ["E.164 with a trunk zero after the country code", '{"identifier":"+600136866982"}', "+60136866982"],
  ])("%s → E.164, the rest byte for byte", (_, body, e164, fallback?: string) => {
    const result = rewrite("login", "json", body, fallback ?? null);
    expect(result.fields).toEqual(["identifier"]);
    expect(JSON.parse(result.body).identifier).toBe(e164);
    // Only the value's literal changed.
    const literal = body.slice(body.indexOf('"identifier":') + 13).match(/^"(?:[^"\\]|\\.)*"/)?.[0] ?? "";
    expect(result.body).toBe(body.replace(literal, JSON.stringify(e164)));
  });

  it.each([
    ["already E.164", '{"identifier":"+4917612345678","password":"x"}'],
    ["an email", '{"identifier":"Jane.Doe@Example.com","password":"x"}'],
    ["a user name", '{"identifier":"jane_doe","password":"x"}'],
    ["too short to be a number", '{"identifier":"0176 12","transient_payload":{"phone_region":"DE"}}'],
    ["national without any region", '{"identifier":"0176 1234 5678"}'],
    ["national with a picked region that is not one", '{"identifier":"0176 1234 5678","transient_payload":{"phone_region":"ZZ"}}'],
    ["a phone in a field Kratos does not match on", '{"password":"0176 1234 5678","transient_payload":{"phone_region":"DE"}}'],
    ["a key in another case, which Kratos drops (its decoder matches keys exactly)", '{"Identifier":"0176 1234 5678","password":"x"}'],
  ])("%s: forwarded as the same bytes", (_, body) => {
    const result = rewrite("login", "json", body, null);
    expect(result).toEqual({ body, fields: [], same: true });
  });

  it("the picked region wins over the fallback, and an unknown pick is not replaced by a guess", () => {
    // 01 23 45 67 89 is a Paris number in FR, and no valid number in DE.
    expect(rewrite("login", "json", '{"identifier":"01 23 45 67 89","transient_payload":{"phone_region":"FR"}}', "DE").body).toContain(
      '"+33123456789"',
    );
    expect(rewrite("login", "json", '{"identifier":"0176 1234 5678","transient_payload":{"phone_region":"ZZ"}}', "DE").same).toBe(true);
  });

  it("reads phone_region as Go does: the last of duplicate keys; a value that is not a string is no region", () => {
    expect(
      rewrite("login", "json", '{"transient_payload":{"phone_region":"FR","phone_region":"DE"},"identifier":"0176 1234 5678"}').body,
    ).toContain('"+4917612345678"');
    expect(
      rewrite("login", "json", '{"transient_payload":{"phone_region":"DE","phone_region":49},"identifier":"0176 1234 5678"}', "DE").same,
    ).toBe(true);
    expect(rewrite("login", "json", '{"identifier":"0176 1234 5678","transient_payload":{"phone_region":49}}', "DE").same).toBe(true);
    expect(rewrite("login", "json", '{"identifier":"0176 1234 5678","transient_payload":{"phone_region":"de"}}').body).toContain(
      '"+4917612345678"',
    );
  });

  it("rewrites password_identifier (legacy) and the code method's address, in every step", () => {
    const first = rewrite("login", "json", '{"method":"code","identifier":"0176 1234 5678","csrf_token":"t"}', "DE");
    expect(first.fields).toEqual(["identifier"]);
    const second = rewrite(
      "login",
      "json",
      '{"method":"code","code":"123456","identifier":"0176 1234 5678","address":"0176 1234 5678","csrf_token":"t"}',
      "DE",
    );
    expect(second.fields).toEqual(["identifier", "address"]);
    expect(second.body).toBe('{"method":"code","code":"123456","identifier":"+4917612345678","address":"+4917612345678","csrf_token":"t"}');
    const legacy = rewrite("login", "json", '{"method":"password","password_identifier":"0176 1234 5678","password":"p"}', "DE");
    expect(legacy.body).toBe('{"method":"password","password_identifier":"+4917612345678","password":"p"}');
  });

  it("keeps everything else exactly: white space, key order, escapes, numbers beyond double precision", () => {
    const body =
      '{\n  "csrf_token" : "a\\/b\\u00e9",\n  "identifier": "0176 1234 5678",\t"transient_payload": {"phone_region": "DE", "n": 12345678901234567890123, "x": [1.50, {"identifier":"0176 1234 5678"}]}\r\n}';
    const result = rewrite("login", "json", body);
    expect(result.body).toBe(body.replace('"0176 1234 5678",\t', '"+4917612345678",\t'));
  });

  it("a key written with escapes is the key (Kratos's decoder unescapes keys too)", () => {
    expect(rewrite("login", "json", '{"identif\\u0069er":"0176 1234 5678"}', "DE").body).toBe('{"identif\\u0069er":"+4917612345678"}');
  });

  it.each<[string, string | Uint8Array, Refusal]>([
    ["not JSON", '{"identifier":"0176 1234 5678"', "json_syntax"],
    ["trailing data (Kratos reads the first object and ignores the rest)", '{"identifier":"0176 1234 5678"} {}', "json_trailing_data"],
    ["trailing garbage", '{"identifier":"0176 1234 5678"}x', "json_trailing_data"],
    ["an array", '[{"identifier":"0176 1234 5678"}]', "json_not_object"],
    ["a single quote", "{'identifier':'0176 1234 5678'}", "json_syntax"],
    ["a control character in a string", '{"identifier":"0176 1234\t5678"}', "json_syntax"],
    ["a byte-order mark", '\ufeff{"identifier":"0176 1234 5678"}', "json_not_object"],
    ["nested 70 deep", `{"transient_payload":${'{"a":'.repeat(70)}1${"}".repeat(70)},"identifier":"0176 1234 5678"}`, "json_too_deep"],
    [
      "bytes that are not UTF-8 (Kratos reads them as U+FFFD)",
      new Uint8Array([...utf8('{"identifier":"0176 1234 5678","x":"'), 0xff, ...utf8('"}')]),
      "json_not_utf8",
    ],
    ["a top-level key twice (Go keeps the last)", '{"identifier":"0176 1234 5678","identifier":"+49 176 1234 5679"}', "json_duplicate_key"],
    ["a key twice, once escaped", '{"identifier":"a","identif\\u0069er":"0176 1234 5678"}', "json_duplicate_key"],
    ['a number (Kratos reads 17612345678 as the text "17612345678")', '{"identifier":17612345678}', "phone_field_not_string"],
    ["null", '{"identifier":null}', "phone_field_not_string"],
    ["an array", '{"identifier":["0176 1234 5678"]}', "phone_field_not_string"],
  ])("%s: refused", (_, body, refusal) => {
    expect(refusalOf("login", "json", body)).toBe(refusal);
  });

  it("a key twice inside an array or a nested object is Kratos's to read (it copies them as they came)", () => {
    expect(
      rewrite("login", "json", '{"identifier":"0176 1234 5678","transient_payload":{"a":[{"k":1,"k":2}],"b":{"k":1,"k":2}}}', "DE").fields,
    ).toEqual(["identifier"]);
  });

  it("the identifier and its legacy name are two fields, each read", () => {
    expect(rewrite("login", "json", '{"identifier":"a@b.example","password_identifier":"0176 1234 5678"}', "DE").fields).toEqual([
      "password_identifier",
    ]);
  });
});

describe("gateway submission: fields Kratos's decoder inserts as raw JSON (ory/x decoderx, sjson.SetRawBytes)", () => {
  it.each<[SelfServiceFlow, string, Refusal]>([
    // Kratos measured: this logs in as INJ with no identifier key in the body.
    [
      "login",
      '{"method":"password","password":"x","transient_payload":"{}, \\"identifier\\": \\"0176 1234 5678\\""}',
      "object_text_not_one_object",
    ],
    [
      "registration",
      '{"method":"password","password":"x","transient_payload":"{}, \\"traits\\": {\\"phone\\":\\"0176\\"}"}',
      "object_text_not_one_object",
    ],
    [
      "registration",
      '{"method":"password","traits.name":"{\\"first\\":\\"a\\"}, \\"phone\\": \\"0176 1234 5678\\""}',
      "object_text_not_one_object",
    ],
    // Kratos measured: a JSON text for traits registers the phone in it.
    ["registration", '{"method":"password","traits":"{\\"phone\\":\\"0176 1234 5678\\"}"}', "phone_field_in_json_text"],
    ["settings", '{"method":"profile","traits":"  {\\"phone\\":\\"0176 1234 5678\\"}"}', "phone_field_in_json_text"],
  ])("%s %s: refused", (flow, body, refusal) => {
    expect(refusalOf(flow, "json", body)).toBe(refusal);
  });

  it("a JSON text for an object field without a phone in it is read as Kratos reads it: one object", () => {
    expect(rewrite("login", "json", '{"identifier":"0176 1234 5678","transient_payload":"{\\"phone_region\\":\\"DE\\"}"}').body).toBe(
      '{"identifier":"+4917612345678","transient_payload":"{\\"phone_region\\":\\"DE\\"}"}',
    );
    expect(rewrite("registration", "json", '{"traits":"{\\"email\\":\\"a@b.example\\"}","method":"password"}').same).toBe(true);
  });

  it("a text that is no JSON at all for a field that may be an object is left to Kratos (it is a plain string, or Kratos refuses it)", () => {
    expect(rewrite("registration", "json", '{"traits.name":"Jane","traits.phone":"0176 1234 5678"}', "DE").fields).toEqual([
      "traits.phone",
    ]);
  });

  it.each<[SelfServiceFlow, string]>([
    ["registration", '{"traits":{"phone":"0176 1234 5678"},"traits.phone":"0176 1234 5679"}'],
    ["registration", '{"traits.phone":"0176 1234 5679","traits":{"phone":"0176 1234 5678"}}'],
    ["settings", '{"traits":{"phone":"0176 1234 5678","phone":"0176 1234 5679"}}'],
  ])("%s: the phone given twice, dotted and nested (Kratos's pick is random): refused", (flow, body) => {
    expect(refusalOf(flow, "json", body)).toBe("phone_field_repeated");
  });
});

describe("gateway rewrite: registration and settings bodies", () => {
  it.each<[SelfServiceFlow, string, string]>([
    ["registration", '{"method":"password","traits":{"phone":"0176 1234 5678"},"password":"p"}', "traits"],
    ["registration", '{"method":"password","traits.phone":"0176 1234 5678","password":"p"}', "dotted"],
    ["settings", '{"method":"profile","traits":{"email":"a@b.example","phone":"0176 1234 5678"}}', "traits"],
    ["settings", '{"method":"profile","traits.phone":"0176 1234 5678","traits.email":"a@b.example"}', "dotted"],
  ])("%s, %s keys: the configured trait", (flow, body) => {
    const result = rewrite(flow, "json", body, "DE");
    expect(result.fields).toEqual(["traits.phone"]);
    expect(result.body).toBe(body.replace('"0176 1234 5678"', '"+4917612345678"'));
  });

  it("a nested trait path, written nested, dotted or half of each", () => {
    const traits = ["contact.mobile"];
    for (const body of [
      '{"traits":{"contact":{"mobile":"0176 1234 5678"}}}',
      '{"traits.contact.mobile":"0176 1234 5678"}',
      '{"traits.contact":{"mobile":"0176 1234 5678"}}',
    ]) {
      expect(rewrite("registration", "json", body, "DE", traits).body).toBe(body.replace("0176 1234 5678", "+4917612345678"));
    }
  });

  it("the two-step profile flow: both steps carry the traits, both are rewritten", () => {
    const profile = '{"method":"profile","screen":"credential-selection","traits":{"phone":"0176 1234 5678"}}';
    const password = '{"method":"password","password":"p","traits":{"phone":"0176 1234 5678"}}';
    expect(rewrite("registration", "json", profile, "DE").fields).toEqual(["traits.phone"]);
    expect(rewrite("registration", "json", password, "DE").fields).toEqual(["traits.phone"]);
  });

  it("login fields are not rewritten in registration, and traits not in login", () => {
    expect(rewrite("registration", "json", '{"identifier":"0176 1234 5678"}', "DE").same).toBe(true);
    expect(rewrite("login", "json", '{"traits":{"phone":"0176 1234 5678"}}', "DE").same).toBe(true);
  });

  it("an email trait and other traits stay as typed", () => {
    const body = '{"traits":{"email":"Jane@Example.com","name":"0176 1234 5678","phone":"0176 1234 5678"}}';
    expect(rewrite("registration", "json", body, "DE").body).toBe(
      '{"traits":{"email":"Jane@Example.com","name":"0176 1234 5678","phone":"+4917612345678"}}',
    );
  });
});

describe("gateway rewrite: a phone trait that is not a valid number", () => {
  // Kratos v25.4+ passes no transient_payload to settings hooks, so the region the gateway read
  // the number in travels as its country code: the hook then says "not valid" on every version.
  it.each([
    ["settings", '{"method":"profile","traits":{"phone":"0176 12"},"transient_payload":{"phone_region":"DE"}}', "+4917612"],
    ["registration", '{"method":"password","traits":{"phone":"0176 12"}}', "+4917612", "DE"],
    ["settings", "method=profile&traits.phone=0176+12&transient_payload=%7B%22phone_region%22%3A%22DE%22%7D", "+4917612"],
  ])("%s, written nationally: the region's country code in front (%s)", (flow, body, written, fallback?: string) => {
    const format = body.startsWith("{") ? "json" : "form";
    const result = rewrite(flow as SelfServiceFlow, format, body, fallback ?? null);
    expect(result.fields).toEqual(["traits.phone"]);
    expect(result.body).toContain(format === "json" ? JSON.stringify(written) : encodeURIComponent(written));
  });

  it.each([
    ["no region", '{"traits":{"phone":"0176 12"}}', null],
    ["written internationally", '{"traits":{"phone":"+49 176 12"}}', "DE"],
    ["00 prefix", '{"traits":{"phone":"0049 176 12"}}', "DE"],
    ["not digits (a name with digits in it)", '{"traits":{"phone":"call 0176 12"}}', "DE"],
  ])("%s: forwarded as written", (_, body, fallback) => {
    expect(rewrite("settings", "json", body, fallback).same).toBe(true);
  });

  it("never turns a number the hooks would refuse into one they accept: a rewritten trait is the E.164 of a valid number, or still not valid", () => {
    const regions = ["DE", "AU", "CC", "TH", "US", "FR", "GB", "JP", "IN", "BR", "RU", "CN", "IT", "MX"] as const;
    // Near misses of real numbers, as people mistype them: a valid number's digits (national or
    // international) with a prefix, one digit dropped or added, separators anywhere.
    const nearMiss = fc
      .record({
        region: fc.constantFrom(...regions),
        other: fc.constantFrom(...regions),
        international: fc.boolean(),
        prefix: fc.constantFrom("", "0", "0 ", "(0)", "00", "0 0", "(0)0", "1", "011", "8"),
        edit: fc.nat(40),
        digit: fc.constantFrom(..."0123456789".split("")),
        drop: fc.boolean(),
        separators: fc.array(fc.tuple(fc.nat(20), fc.constantFrom(" ", "-", ".", "(", ")", "/", "[", "]", "\u200c", "\u2060")), {
          maxLength: 4,
        }),
      })
      .map(({ region, other, international, prefix, edit, digit, drop, separators }) => {
        const example = getExampleNumber(other, examples);
        let digits = (international ? example?.number.slice(1) : example?.nationalNumber) ?? "123456";
        const at = edit % (digits.length + 1);
        digits = drop ? digits.slice(0, at) + digits.slice(at + 1) : digits.slice(0, at) + digit + digits.slice(at);
        let raw = prefix + digits;
        for (const [i, sep] of separators) raw = raw.slice(0, i % (raw.length + 1)) + sep + raw.slice(i % (raw.length + 1));
        return { raw, region };
      });
    fc.assert(
      fc.property(nearMiss, ({ raw, region }) => {
        const body = JSON.stringify({ method: "profile", traits: { phone: raw } });
        const result = read("settings", "json", body, region);
        if ("refused" in result) return;
        const forwarded = JSON.parse(result.body).traits.phone as string;
        if (forwarded === raw) return;
        const direct = toE164(raw, region);
        if (direct.ok) expect(forwarded).toBe(direct.e164);
        else expect(toE164(forwarded, undefined).ok, `${JSON.stringify(raw)} in ${region} → ${forwarded}`).toBe(false);
      }),
      { numRuns: 20_000 },
    );
  });

  it("a login identifier that is not a valid number is forwarded as written (Kratos answers invalid credentials either way)", () => {
    expect(rewrite("login", "json", '{"identifier":"0176 12"}', "DE").same).toBe(true);
  });
});

describe("gateway rewrite: recovery and verification", () => {
  it("recovery: recovery_address and recovery_confirm_address (Kratos v25.4+), never email", () => {
    const body =
      '{"method":"code","email":"0176 1234 5678","recovery_address":"0176 1234 5678","recovery_confirm_address":"0176 1234 5678"}';
    const result = rewrite("recovery", "json", body, "DE");
    expect(result.fields).toEqual(["recovery_address", "recovery_confirm_address"]);
    expect(JSON.parse(result.body)).toEqual({
      method: "code",
      email: "0176 1234 5678",
      recovery_address: "+4917612345678",
      recovery_confirm_address: "+4917612345678",
    });
  });

  it("verification: no field (every released Kratos reads only email there)", () => {
    expect(rewrite("verification", "json", '{"method":"code","email":"0176 1234 5678"}', "DE").same).toBe(true);
  });
});

describe("gateway rewrite: form-encoded bodies", () => {
  it("a browser login form without transient_payload: the region comes from the header or defaultRegion", () => {
    const body = "csrf_token=abc%2Fdef%3D&identifier=0176+1234+5678&password=p%40ss+word&method=password";
    const result = rewrite("login", "form", body, "DE");
    expect(result.fields).toEqual(["identifier"]);
    expect(result.body).toBe("csrf_token=abc%2Fdef%3D&identifier=%2B4917612345678&password=p%40ss+word&method=password");
  });

  it("without any region, the national form is forwarded as typed", () => {
    const body = "identifier=0176+1234+5678&password=p&method=password";
    expect(rewrite("login", "form", body)).toEqual({ body, fields: [], same: true });
  });

  it("a hidden transient_payload field (a JSON string) gives the region", () => {
    const body = `identifier=0176%201234%205678&transient_payload=${encodeURIComponent('{"phone_region":"DE"}')}&method=password`;
    const result = rewrite("login", "form", body);
    expect(result.body).toBe(
      `identifier=%2B4917612345678&transient_payload=${encodeURIComponent('{"phone_region":"DE"}')}&method=password`,
    );
  });

  it("dotted trait keys in a registration form", () => {
    const body = "traits.phone=%2B49+176+1234+5678&traits.email=&method=password";
    const result = rewrite("registration", "form", body, "DE");
    expect(result.body).toBe("traits.phone=%2B4917612345678&traits.email=&method=password");
  });

  it("bytes that are not UTF-8 in another field are read as Kratos reads them (U+FFFD), and kept as sent", () => {
    const body = new Uint8Array([...utf8("identifier=0176+1234+5678&password=p%FF"), 0xfe, ...utf8("&method=password")]);
    const result = readSubmission({ query: "", body: { format: "form", bytes: body }, fields: phoneFieldsOf("login", []) }, regionOf("DE"));
    expect(result).toEqual({
      ok: true,
      query: "",
      body: new Uint8Array([...utf8("identifier=%2B4917612345678&password=p%FF"), 0xfe, ...utf8("&method=password")]),
      rewritten: ["identifier"],
      fields: new Map([
        ["identifier", "+4917612345678"],
        ["password", "p\uFFFD\uFFFD"],
        ["method", "password"],
      ]),
    });
  });

  it.each<[string, string, Refusal]>([
    ["a repeated phone field (Go takes the first)", "identifier=0176+1234+5678&identifier=a%40b.example", "phone_field_repeated"],
    ["a malformed escape (Go refuses the body)", "identifier=0176%ZZ1234&password=p", "form_bad_escape"],
    ["a truncated escape", "identifier=0176&password=p%4", "form_bad_escape"],
    ["a semicolon (Go refuses the body)", "identifier=0176+1234+5678;password=p", "form_semicolon"],
    [
      "transient_payload that adds fields (Kratos inserts it raw)",
      `identifier=a&transient_payload=${encodeURIComponent('{}, "identifier": "0176 1234 5678"')}`,
      "object_text_not_one_object",
    ],
    [
      "traits as a JSON text with the phone in it",
      `traits=${encodeURIComponent('{"phone":"0176 1234 5678"}')}&method=password`,
      "phone_field_in_json_text",
    ],
    [
      "transient_payload twice",
      `transient_payload=${encodeURIComponent("{}")}&transient_payload=${encodeURIComponent("{}")}`,
      "object_field_repeated",
    ],
  ])("%s: refused", (_, body, refusal) => {
    const flow = body.includes("traits=") ? "registration" : "login";
    expect(refusalOf(flow, "form", body)).toBe(refusal);
  });

  it("more than 10,000 fields (Go refuses the body): refused", () => {
    expect(refusalOf("login", "form", "a=1&".repeat(10_000))).toBe("form_too_many_fields");
    expect(refusalOf("login", "form", "a=1&".repeat(9_999))).toBeUndefined();
  });

  it.each([
    ["nothing to rewrite", "identifier=%2B4917612345678&password=p"],
    ["an email", "identifier=jane%40example.com&password=p"],
    ["an empty body", ""],
    ["keys without values", "identifier&password"],
  ])("%s: the same bytes", (_, body) => {
    expect(rewrite("login", "form", body, "DE")).toEqual({ body, fields: [], same: true });
  });
});

describe("gateway submission: the query (Kratos reads a GET submission there, and merges it over a recovery or verification body)", () => {
  it("a settings change in the query of a GET: rewritten in place, the rest of the query as sent", () => {
    const result = readSubmission(
      {
        query: "flow=f1&method=profile&traits.phone=0176+1234+5678&traits.email=a%40b.example",
        fields: phoneFieldsOf("settings", ["phone"]),
      },
      regionOf("DE"),
    );
    expect(result).toEqual({
      ok: true,
      query: "flow=f1&method=profile&traits.phone=%2B4917612345678&traits.email=a%40b.example",
      body: undefined,
      rewritten: ["traits.phone"],
      // The fields as Kratos reads them, after the rewriting: what the shield's attempt is read from.
      fields: new Map([
        ["flow", "f1"],
        ["method", "profile"],
        ["traits.phone", "+4917612345678"],
        ["traits.email", "a@b.example"],
      ]),
    });
  });

  it("recovery: an address in the query is rewritten; the same field in the query and the body is refused", () => {
    const fields = phoneFieldsOf("recovery", ["phone"]);
    const body = { format: "json" as const, bytes: utf8('{"method":"code","recovery_address":"0176 1234 5678"}') };
    expect(readSubmission({ query: "flow=f&recovery_address=0176+1234+5679", fields, body }, regionOf("DE"))).toEqual({
      ok: false,
      refusal: "phone_field_repeated",
    });
    const merged = readSubmission(
      { query: "flow=f&recovery_address=0176+1234+5679", fields, body: { format: "json", bytes: utf8('{"method":"code"}') } },
      regionOf("DE"),
    );
    expect(merged).toMatchObject({ ok: true, query: "flow=f&recovery_address=%2B4917612345679", rewritten: ["recovery_address"] });
  });

  it("a query Go refuses is refused", () => {
    expect(readSubmission({ query: "flow=f;x", fields: new Set() }, regionOf())).toEqual({ ok: false, refusal: "form_semicolon" });
  });
});

describe("gateway rewrite: which bodies are read", () => {
  it.each([
    ["application/json", "json"],
    ["application/json; charset=utf-8", "json"],
    ["Application/JSON", "json"],
    ["application/x-www-form-urlencoded", "form"],
    ["application/x-www-form-urlencoded; charset=UTF-8", "form"],
    ["multipart/form-data; boundary=x", "multipart"],
    ["text/plain, application/json", "content_type_list"],
    ["application/x-www-form-urlencoded, application/json", "content_type_list"],
    ["application/json ; x=y", "json"],
    ["text/plain", undefined],
    ["application/jsonp", undefined],
    [null, undefined],
  ])("%s → %s", (contentType, format) => {
    expect(bodyFormatOf(contentType)).toBe(format);
  });
});

describe("scanJsonObject agrees with JSON.parse", () => {
  it("lists each string member of any JSON object, at its path, with a literal that parses to the value", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })), fc.constantFrom(0, 1, 2), (value, indent) => {
        const source = JSON.stringify(value, null, indent);
        const scanned = scanJsonObject(source);
        expect(scanned.ok).toBe(true);
        const members = scanned.ok ? scanned.members.filter((m) => m.kind === "string") : [];
        const expected: [string, string][] = [];
        const walk = (node: unknown, path: string) => {
          if (node === null || typeof node !== "object" || Array.isArray(node)) return;
          for (const [key, child] of Object.entries(node)) {
            const at = path === "" ? key : `${path}.${key}`;
            if (typeof child === "string") expected.push([at, child]);
            else walk(child, at);
          }
        };
        walk(value, "");
        const found = members.map((m) => [m.path, JSON.parse(source.slice(m.start, m.end))]);
        expect(found.sort()).toEqual(expected.sort());
      }),
      { numRuns: 300 },
    );
  });

  it("accepts exactly the texts JSON.parse accepts as an object (without a top-level key twice)", () => {
    const pieces = ["{", "}", "[", "]", '"a"', '"b\\n"', ":", ",", " ", "1", "-0.5e3", "true", "null", "01", '"\\x"', "\t", "tru", "1."];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 12 }), (parts) => {
        const source = parts.join("");
        let object = false;
        try {
          const parsed = JSON.parse(source);
          object = parsed !== null && typeof parsed === "object" && !Array.isArray(parsed);
        } catch {
          object = false;
        }
        const scanned = scanJsonObject(source);
        // JSON.parse keeps the last of a key given twice; the scan refuses it (json_duplicate_key).
        expect(scanned.ok || scanned.problem === "json_duplicate_key").toBe(object);
      }),
      { numRuns: 3000 },
    );
  });
});
