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
});
