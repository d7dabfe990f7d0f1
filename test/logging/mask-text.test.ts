import { describe, expect, it } from "vitest";
import { maskText } from "../../src/core/redact.js";

describe("maskText: email addresses and numbers in free text", () => {
  it.each([
    ["invite check failed for jane.doe@example.com", "invite check failed for j***@example.com"],
    ["<Jane@Example.co.uk>, then", "<J***@Example.co.uk>, then"],
    ["user müller@bücher.de.", "user m***@bücher.de."],
    ["call +49 176 1234 5678 now", "call +49******5678 now"],
  ])("%s", (text, masked) => {
    expect(maskText(text)).toBe(masked);
  });

  it.each([
    "    at file:///app/node_modules/@hono/node-server/dist/index.mjs:12:5",
    "    at /srv/app/node_modules/@ory/client/dist/api.js:3:1",
    "import from npm:@scope/pkg@1.2",
  ])("leaves a path with @ alone: %s", (line) => {
    expect(maskText(line)).toBe(line);
  });

  it.each([
    // An email in a URL, as encodeURIComponent writes it (the invite example's own URL).
    [
      "GET https://invites.example/check?email=alice%40example.com&x=1 failed",
      "GET https://invites.example/check?email=a***%40example.com&x=1 failed",
    ],
    ["GET /invites/alice%40example.com answered 500", "GET /invites/a***%40example.com answered 500"],
    ["request with api_key=sk_live_abcdef123456 refused", "request with api_key=[redacted] refused"],
    ["Authorization: Bearer abcdefghijklmnop", "Authorization: [redacted]"],
    ["sent Bearer abcdefghijklmnop to the API", "sent Bearer [redacted] to the API"],
    ["Cookie: ory_kratos_session=MTY5abcdef; csrf=x", "Cookie: [redacted]"],
    [
      "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U here",
      "token [redacted jwt] here",
    ],
    ["session ory_st_abcdefghijklmnop12 expired", "session ory_[redacted] expired"],
    ['body {"password":"hunter22"}', 'body {"password":"[redacted]"}'],
    ["?session_token=abc&flow=1", "?session_token=[redacted]&flow=1"],
  ])("masks credentials and encoded emails: %s", (text, masked) => {
    expect(maskText(text)).toBe(masked);
  });
});
