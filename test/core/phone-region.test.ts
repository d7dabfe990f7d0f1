import { describe, expect, it } from "vitest";
import { type RegionSources, resolvePhoneRegion } from "../../src/core/phone-region.js";

describe("resolvePhoneRegion: one order for the hook and the gateway", () => {
  const DEFAULT = { defaultRegion: "DE", regionHeader: "Cf-Ipcountry" } as const;
  it.each<[string, RegionSources, { region?: string; unknown?: string }]>([
    ["the pick wins", { picked: "fr", header: "GB", clientCountry: "US" }, { region: "FR" }],
    ["then the header", { header: "gb", clientCountry: "US" }, { region: "GB" }],
    ["then the client's country", { clientCountry: "US" }, { region: "US" }],
    ["then defaultRegion", {}, { region: "DE" }],
    ["a picked value that is no region is reported, not replaced", { picked: "ZZ", header: "GB" }, { unknown: "ZZ" }],
    ["a picked number is no region either", { picked: 49 }, { unknown: "49" }],
    ["an empty or null pick is no pick", { picked: "", header: "GB" }, { region: "GB" }],
    ["a null pick is no pick", { picked: null, clientCountry: "US" }, { region: "US" }],
    ["Cloudflare's XX and T1 fall through", { header: "XX", clientCountry: "T1" }, { region: "DE" }],
    ["white space around a code is fine", { header: " at " }, { region: "AT" }],
  ])("%s", (_title, sources, expected) => {
    expect(resolvePhoneRegion(sources, DEFAULT)).toEqual(expected);
  });

  it("without defaultRegion and any source: no region", () => {
    expect(resolvePhoneRegion({}, { defaultRegion: null, regionHeader: null })).toEqual({});
  });
});
