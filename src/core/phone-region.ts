import type { CountryCode } from "libphonenumber-js/max";
import type { HookInput } from "./decision.js";
import { isPhoneRegion } from "./phone.js";

/** Where the region of nationally written numbers comes from, besides the sources of a request. */
export interface PhoneRegionOptions {
  /** The region when no source of the request names one; null for none. */
  defaultRegion: CountryCode | null;
  /** A request header holding an ISO 3166-1 code (e.g. `Cf-Ipcountry`); null for none. */
  regionHeader: string | null;
}

/** The region sources one request offers, in the order they are consulted. */
export interface RegionSources {
  /** `transient_payload.phone_region`: the person's own choice (a country picker). */
  picked?: unknown;
  /** The value of the configured `regionHeader`, when the request has it. */
  header?: string | undefined;
  /** Where the client connects from (Cloudflare's `request.cf.country`); the gateway only, opt-in. */
  clientCountry?: string | undefined;
}

/**
 * The region that reads a nationally written number, or none. `unknown` is set when the person
 * picked something that is not a region: that choice is not silently replaced by a guess.
 */
export interface ResolvedRegion {
  region?: CountryCode;
  unknown?: string;
}

function asRegion(value: string | undefined): CountryCode | undefined {
  const code = value?.trim().toUpperCase() ?? "";
  return isPhoneRegion(code) ? code : undefined;
}

/**
 * Resolves the region in the one documented order: the picked region, then the configured
 * header, then the client's country, then `defaultRegion`. Cloudflare's `XX` (unknown) and `T1`
 * (Tor) are not regions, so those fall through to the next source.
 */
export function resolvePhoneRegion(sources: RegionSources, options: PhoneRegionOptions): ResolvedRegion {
  const { picked } = sources;
  if (picked !== undefined && picked !== null && picked !== "") {
    const region = typeof picked === "string" ? asRegion(picked) : undefined;
    return region === undefined ? { unknown: String(picked).slice(0, 16) } : { region };
  }
  const region = asRegion(sources.header) ?? asRegion(sources.clientCountry) ?? options.defaultRegion;
  return region === null ? {} : { region };
}

/** The region of a hook call: `transient_payload.phone_region`, then the configured header, then the default. */
export function regionOfHookInput(input: HookInput, options: PhoneRegionOptions): ResolvedRegion {
  const header = options.regionHeader === null ? undefined : input.headers.get(options.regionHeader.toLowerCase())?.[0];
  return resolvePhoneRegion({ picked: input.transientPayload?.phone_region, header }, options);
}
