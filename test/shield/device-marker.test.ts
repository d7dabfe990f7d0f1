import { describe, expect, it } from "vitest";
import { createDeviceMarkers } from "../../src/gateway/shield/device-marker.js";
import { createPseudonyms } from "../../src/gateway/shield/keys.js";

const DAY = 86_400_000;
const markers = createDeviceMarkers(createPseudonyms("a secret of sixteen+ characters"), 90);
const at = Date.UTC(2026, 0, 1);

describe("shield: device markers", () => {
  it("a marker issued for an identifier is valid for it, within its days", async () => {
    const token = await markers.issue("id-1", at);
    expect(token).toMatch(/^v1\.\d+\.[A-Za-z0-9_-]{22}$/);
    expect(await markers.valid("id-1", token, at)).toBe(true);
    expect(await markers.valid("id-1", token, at + 89 * DAY)).toBe(true);
  });

  it("is not valid for another identifier, after its days, or issued more than a minute ahead", async () => {
    const token = await markers.issue("id-1", at);
    expect(await markers.valid("id-2", token, at)).toBe(false);
    expect(await markers.valid("id-1", token, at + 91 * DAY)).toBe(false);
    expect(await markers.valid("id-1", await markers.issue("id-1", at + 120_000), at)).toBe(false);
  });

  it.each([undefined, "", "v1.abc.def", "v2.1767225600.AAAAAAAAAAAAAAAAAAAAAA"])("%s is no marker", async (token) => {
    expect(await markers.valid("id-1", token, at)).toBe(false);
  });

  it("a marker signed under another secret is not valid", async () => {
    const other = createDeviceMarkers(createPseudonyms("another secret, sixteen+ characters"), 90);
    expect(await markers.valid("id-1", await other.issue("id-1", at), at)).toBe(false);
  });
});
