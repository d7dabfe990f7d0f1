import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resolvePhoneRegion } from "../../src/core/phone-region.js";
import { findStringMembers } from "../../src/gateway/json-members.js";
import { bodyFormatOf, phoneFieldsOf, type RegionOf, rewritePhoneFields, type SelfServiceFlow } from "../../src/gateway/rewrite.js";

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);

/** The region as the gateway resolves it: the body's pick, then a default (standing in for a header or defaultRegion). */
const regionOf =
  (fallback: string | null = null): RegionOf =>
  (picked) =>
    resolvePhoneRegion({ picked }, { defaultRegion: fallback as never, regionHeader: null });

function rewrite(flow: SelfServiceFlow, format: "json" | "form", body: string, fallback: string | null = null, traits = ["phone"]) {
  const bytes = utf8(body);
  const result = rewritePhoneFields(format, bytes, phoneFieldsOf(flow, traits), regionOf(fallback));
  return { body: text(result.body), fields: result.fields, same: result.body === bytes };
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
    ["a number that is not a string", '{"identifier":4917612345678}'],
    ["a phone in a field Kratos does not match on", '{"password":"0176 1234 5678","transient_payload":{"phone_region":"DE"}}'],
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

  it("rewrites every duplicate of a field (Go's decoder keeps the last, a form reader the first)", () => {
    const result = rewrite("login", "json", '{"identifier":"0176 1234 5678","identifier":"+49 176 1234 5679"}', "DE");
    expect(result.body).toBe('{"identifier":"+4917612345678","identifier":"+4917612345679"}');
    expect(result.fields).toEqual(["identifier"]);
  });

  it.each([
    ["not JSON", '{"identifier":"0176 1234 5678"'],
    ["trailing data", '{"identifier":"0176 1234 5678"} {}'],
    ["an array", '[{"identifier":"0176 1234 5678"}]'],
    ["a single quote", "{'identifier':'0176 1234 5678'}"],
    ["a control character in a string", '{"identifier":"0176 1234\t5678"}'],
    ["a byte-order mark", '\ufeff{"identifier":"0176 1234 5678"}'],
    ["nested 70 deep", `${'{"a":'.repeat(70)}{"identifier":"0176 1234 5678"}${"}".repeat(70)}`],
  ])("%s: forwarded untouched, so Kratos's own 400 reaches the client", (_, body) => {
    expect(rewrite("login", "json", body, "DE")).toEqual({ body, fields: [], same: true });
  });

  it("bytes that are not UTF-8 are forwarded untouched", () => {
    const bytes = new Uint8Array([...utf8('{"identifier":"0176 1234 5678","x":"'), 0xff, ...utf8('"}')]);
    const result = rewritePhoneFields("json", bytes, phoneFieldsOf("login", ["phone"]), regionOf("DE"));
    expect(result.body).toBe(bytes);
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

  it("dotted trait keys in a registration form; repeated keys are all rewritten", () => {
    const body = "traits.phone=%2B49+176+1234+5678&traits.email=&method=password&traits.phone=0176+1234+5679";
    const result = rewrite("registration", "form", body, "DE");
    expect(result.body).toBe("traits.phone=%2B4917612345678&traits.email=&method=password&traits.phone=%2B4917612345679");
  });

  it.each([
    ["a malformed escape", "identifier=0176%ZZ1234&password=p"],
    ["nothing to rewrite", "identifier=%2B4917612345678&password=p"],
    ["an email", "identifier=jane%40example.com&password=p"],
    ["an empty body", ""],
    ["keys without values", "identifier&password"],
  ])("%s: the same bytes", (_, body) => {
    expect(rewrite("login", "form", body, "DE")).toEqual({ body, fields: [], same: true });
  });
});

describe("gateway rewrite: which bodies are read", () => {
  it.each([
    ["application/json", "json"],
    ["application/json; charset=utf-8", "json"],
    ["Application/JSON", "json"],
    ["application/x-www-form-urlencoded", "form"],
    ["application/x-www-form-urlencoded; charset=UTF-8", "form"],
    ["multipart/form-data; boundary=x", undefined],
    ["text/plain", undefined],
    ["application/jsonp", undefined],
    [null, undefined],
  ])("%s → %s", (contentType, format) => {
    expect(bodyFormatOf(contentType)).toBe(format);
  });
});

describe("findStringMembers agrees with JSON.parse", () => {
  it("lists each string member of any JSON object, at its path, with a literal that parses to the value", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })), fc.constantFrom(0, 1, 2), (value, indent) => {
        const source = JSON.stringify(value, null, indent);
        const members = findStringMembers(source);
        expect(members).toBeDefined();
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
        const found = (members ?? []).map((m) => [m.path, JSON.parse(source.slice(m.start, m.end))]);
        expect(found.sort()).toEqual(expected.sort());
      }),
      { numRuns: 300 },
    );
  });

  it("accepts exactly the texts JSON.parse accepts as an object", () => {
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
        expect(findStringMembers(source) !== undefined).toBe(object);
      }),
      { numRuns: 3000 },
    );
  });
});
