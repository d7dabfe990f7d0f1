import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { DEV_API_KEY, parseRuntimeSettings } from "../../src/config/env.js";
import { ConfigError, loadConfig, parseConfig } from "../../src/config/parse.js";

function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

const inline = (config: unknown) => errorOf(() => loadConfig({ inline: JSON.stringify(config) }));

describe("configuration: defaults", () => {
  it("{} is a complete config with the documented defaults", () => {
    const config = parseConfig({}, "test");
    expect(config.budgetMs).toBe(2000);
    expect(config.failMode).toBe("closed");
    expect(Object.keys(config.identitySchemas)).toEqual(["default", "email", "phone"]);
    expect(config.normalizePhone).toEqual({
      enabled: true,
      fields: ["phone"],
      defaultRegion: null,
      regionHeader: null,
      allowedTypes: null,
      allowedCountries: null,
      deniedCountries: [],
    });
    expect(config.routeSchema.rules.map((r) => r.schema)).toEqual(["phone", "email"]);
    expect(config.denyRules.blockDisposable).toBe(true);
  });

  it("file, then inline JSON, override the defaults key by key; arrays are replaced", () => {
    const config = loadConfig({
      file: {
        path: "hooks.json",
        url: new URL("file:///etc/hooks.json"),
        text: JSON.stringify({ normalizePhone: { defaultRegion: "DE", fields: ["phone", "mobile"] }, budgetMs: 500 }),
      },
      inline: JSON.stringify({ normalizePhone: { fields: ["mobile"] } }),
    });
    expect(config.normalizePhone.defaultRegion).toBe("DE");
    expect(config.normalizePhone.fields).toEqual(["mobile"]);
    expect(config.budgetMs).toBe(500);
  });
});

describe("configuration: identity schemas", () => {
  const schema = (trait: string) => ({
    type: "object",
    properties: { traits: { type: "object", properties: { [trait]: { type: "string" } } } },
  });

  it("are added to the bundled ones", () => {
    expect(Object.keys(parseConfig({ identitySchemas: { staff: schema("email") } }, "test").identitySchemas)).toEqual([
      "default",
      "email",
      "phone",
      "staff",
    ]);
  });

  it("replace a bundled or earlier schema of the same id whole, never merged", () => {
    const config = loadConfig({
      file: { path: "h.json", url: new URL("file:///h.json"), text: JSON.stringify({ identitySchemas: { phone: schema("mobile") } }) },
      inline: JSON.stringify({ identitySchemas: { phone: schema("landline") } }),
    });
    expect(config.identitySchemas.phone).toEqual(schema("landline"));
  });
});

describe("configuration errors name the key, what was expected and what was found", () => {
  it.each<[string, unknown, string]>([
    ["wrong type", { budgetMs: "fast" }, 'budgetMs: expected number, found "fast"'],
    ["out of range", { budgetMs: 0 }, "budgetMs: expected number to be >=1, found 0"],
    ["not an integer", { budgetMs: 1.5 }, "budgetMs: expected int, found 1.5"],
    ["not one of the options", { failMode: "half" }, 'failMode: expected one of "open"|"closed", found "half"'],
    [
      "typo in a key",
      { normalizePhone: { defaultRegoin: "DE" } },
      'normalizePhone.defaultRegoin: unknown key (did you mean "defaultRegion"?)',
    ],
    [
      "unknown key, no close match",
      { colour: "blue" },
      "colour: unknown key (expected one of: budgetMs, failMode, identitySchemas, normalizePhone, routeSchema, denyRules, gateway)",
    ],
    [
      "typo inside a list item",
      { routeSchema: { rules: [{ when: { traitPresnt: ["phone"] }, schema: "phone" }] } },
      'routeSchema.rules.0.when.traitPresnt: unknown key (did you mean "traitPresent"?)',
    ],
    [
      "region that is not ISO 3166",
      { normalizePhone: { defaultRegion: "Germany" } },
      'normalizePhone.defaultRegion: expected an upper-case ISO 3166-1 alpha-2 region code such as "DE", found "Germany"',
    ],
    [
      "region in lower case",
      { normalizePhone: { allowedCountries: ["de"] } },
      'normalizePhone.allowedCountries.0: expected an upper-case ISO 3166-1 alpha-2 region code such as "DE", found "de"',
    ],
    [
      "phone type that does not exist",
      { normalizePhone: { allowedTypes: ["CELL"] } },
      'normalizePhone.allowedTypes.0: expected one of "FIXED_LINE"',
    ],
    [
      "domain with upper case",
      { denyRules: { denyDomains: ["Example.com"] } },
      'denyRules.denyDomains.0: expected a lower-case domain name such as "example.com", found "Example.com"',
    ],
    [
      "invalid regular expression",
      { denyRules: { request: { denyUserAgents: ["(unclosed"] } } },
      'denyRules.request.denyUserAgents.0: expected a valid regular expression (JavaScript syntax, flags iu), found "(unclosed"',
    ],
    [
      "rule routing to an unknown schema",
      { routeSchema: { rules: [{ when: {}, schema: "staff" }] } },
      'routeSchema.rules.0.schema: expected one of the identity schemas in identitySchemas (default, email, phone), found "staff"',
    ],
    [
      "guard on an unknown schema",
      { routeSchema: { guards: [{ schema: "vip", require: {} }] } },
      'routeSchema.guards.0.schema: expected one of the identity schemas in identitySchemas (default, email, phone), found "vip"',
    ],
    [
      "identity schema without traits",
      { identitySchemas: { default: {} } },
      'identitySchemas.default: no top-level "properties": Kratos refuses to start',
    ],
    [
      "identity schema verified by sms without format",
      {
        identitySchemas: {
          phone: {
            properties: { traits: { properties: { phone: { type: "string", "ory.sh/kratos": { verification: { via: "sms" } } } } } },
          },
        },
      },
      'identitySchemas.phone.properties.traits.properties.phone.format: a trait verified via sms needs "format": "tel", found no format: Kratos starts, then refuses every identity that has this trait',
    ],
    [
      "trait name with spaces",
      { normalizePhone: { fields: ["my phone"] } },
      'normalizePhone.fields.0: expected a trait name such as "phone" or "contact.mobile", found "my phone"',
    ],
  ])("%s", (_title, config, message) => {
    const error = inline(config);
    expect(error).toContain("Invalid configuration in HOOKS_CONFIG:");
    expect(error).toContain(message);
  });

  it("reports several unknown keys in one object on lines of their own", () => {
    const error = inline({ normalizePhone: { regoin: "DE", feilds: [] } });
    expect(error.split("\n").slice(1)).toEqual([
      "  normalizePhone.regoin: unknown key (expected one of: enabled, fields, defaultRegion, regionHeader, allowedTypes, allowedCountries, deniedCountries)",
      '  normalizePhone.feilds: unknown key (did you mean "fields"?)',
    ]);
  });

  it("reports every problem, one per line", () => {
    const error = inline({ budgetMs: "x", failMode: "y" });
    expect(error.split("\n")).toHaveLength(3);
  });

  it("inline JSON that does not parse", () => {
    expect(errorOf(() => loadConfig({ inline: "{budgetMs: 5}" }))).toMatch(
      /^Invalid configuration in HOOKS_CONFIG: expected JSON, found a parse error/,
    );
  });

  it("a file that does not parse names the file", () => {
    expect(
      errorOf(() => loadConfig({ file: { path: "/etc/hooks.json", url: new URL("file:///etc/hooks.json"), text: "nope" } })),
    ).toContain("HOOKS_CONFIG_FILE (/etc/hooks.json)");
  });

  it("JSON that is not an object", () => {
    expect(errorOf(() => loadConfig({ inline: "[1]" }))).toBe("Invalid configuration in HOOKS_CONFIG: expected a JSON object, found [1]");
  });
});

describe("runtime settings from the environment", () => {
  it("without HOOKS_API_KEYS: the development key, flagged", () => {
    expect(parseRuntimeSettings({})).toEqual({ apiKeys: [DEV_API_KEY], usingDevKey: true, logLevel: "info" });
  });

  it("comma-separated keys, trimmed, for rotation", () => {
    const keys = " key-one-0123456789abcdef , key-two-0123456789abcdef";
    expect(parseRuntimeSettings({ HOOKS_API_KEYS: keys }).apiKeys).toEqual(["key-one-0123456789abcdef", "key-two-0123456789abcdef"]);
  });

  it("production refuses to start without keys", () => {
    expect(errorOf(() => parseRuntimeSettings({ NODE_ENV: "production" }))).toMatch(/^HOOKS_API_KEYS: expected at least one API key/);
  });

  it("production without keys shows the exact kratos.yml lines that send one", () => {
    const error = errorOf(() => parseRuntimeSettings({ NODE_ENV: "production" }));
    expect(error).toContain(
      [
        "auth:",
        "      type: api_key",
        "      config:",
        "        name: Authorization",
        "        value: Bearer <key>",
        "        in: header",
      ].join("\n"),
    );
  });

  it('a key written as "Bearer …" gets a hint to drop the prefix, without showing the key', () => {
    const error = errorOf(() => parseRuntimeSettings({ HOOKS_API_KEYS: "Bearer secret-0123456789abcdef" }));
    expect(error).toContain('key #1 starts with "Bearer ": drop the Bearer prefix');
    expect(error).not.toContain("secret-0123456789abcdef");
  });

  it("production refuses the development key", () => {
    expect(errorOf(() => parseRuntimeSettings({ NODE_ENV: "production", HOOKS_API_KEYS: DEV_API_KEY }))).toContain(
      "found the development key",
    );
  });

  it("a short key is refused without showing it", () => {
    const error = errorOf(() => parseRuntimeSettings({ HOOKS_API_KEYS: "key-one-0123456789abcdef,short" }));
    expect(error).toContain("found key #2 of 5 characters");
    expect(error).not.toContain("short");
  });

  it("an unknown LOG_LEVEL", () => {
    expect(errorOf(() => parseRuntimeSettings({ LOG_LEVEL: "verbose" }))).toBe(
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, found "verbose"',
    );
  });
});

describe("identity schemas named by file (Node)", () => {
  const dir = mkdtempSync(join(tmpdir(), "kratos-hooks-config-"));
  mkdirSync(join(dir, "schemas"));
  const staff = { type: "object", properties: { traits: { type: "object", properties: { email: { type: "string" } } } } };
  writeFileSync(join(dir, "schemas", "staff.json"), JSON.stringify(staff));
  writeFileSync(join(dir, "schemas", "broken.json"), "{");
  const readFile = (url: URL) => readFileSync(fileURLToPath(url), "utf8");
  const fromFile = (identitySchemas: Record<string, unknown>) =>
    loadConfig({
      file: { path: join(dir, "hooks.json"), url: pathToFileURL(join(dir, "hooks.json")), text: JSON.stringify({ identitySchemas }) },
      readFile,
    });

  it.each([
    ["a path relative to the config file", "schemas/staff.json"],
    ["Kratos's file://./ form", "file://./schemas/staff.json"],
    ["an absolute file:// URL", pathToFileURL(join(dir, "schemas", "staff.json")).href],
    ["an absolute path", join(dir, "schemas", "staff.json")],
  ])("reads %s", (_title, ref) => {
    expect(fromFile({ staff: ref }).identitySchemas.staff).toEqual(staff);
  });

  it("resolves inline JSON paths from the working directory", () => {
    const config = loadConfig({
      inline: JSON.stringify({ identitySchemas: { staff: "./schemas/staff.json" } }),
      readFile,
      cwd: pathToFileURL(`${dir}/`),
    });
    expect(config.identitySchemas.staff).toEqual(staff);
  });

  it.each([
    [
      "a missing file",
      "schemas/none.json",
      `identitySchemas.x: expected a readable JSON file, found ENOENT for ${join(dir, "schemas", "none.json")}`,
    ],
    [
      "a file that is not JSON",
      "schemas/broken.json",
      `identitySchemas.x: expected JSON, found a parse error in ${join(dir, "schemas", "broken.json")}`,
    ],
    [
      "an https URL",
      "https://example.com/s.json",
      'identitySchemas.x: expected a path or a file:// URL, found "https://example.com/s.json"',
    ],
  ])("refuses %s", (_title, ref, message) => {
    expect(errorOf(() => fromFile({ x: ref }))).toContain(message);
  });

  it("without a file reader (Workers), a reference is refused", () => {
    expect(errorOf(() => loadConfig({ inline: JSON.stringify({ identitySchemas: { x: "schemas/a.json" } }) }))).toContain(
      "identitySchemas.x: expected an inline JSON Schema object (file references need the Node runtime)",
    );
  });
});
