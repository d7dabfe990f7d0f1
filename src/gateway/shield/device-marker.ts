import { SECOND } from "./check.js";
import type { Pseudonyms } from "./keys.js";

/**
 * Device markers: what a successful login hands the client (cookie or header), signed for the
 * identifier and the time it was issued. A client that sends a valid one back is the owner's
 * known device, let past an identifier-wide lock (docs/shield.md).
 */
export interface DeviceMarkers {
  /** A marker for the identifier's pseudonym, issued at `at` (epoch ms). */
  issue(id: string, at: number): Promise<string>;
  /** Whether `token` is a marker for the identifier, issued no more than `deviceDays` before `at` (and not in the future). */
  valid(id: string, token: string | undefined, at: number): Promise<boolean>;
}

const MARKER = /^v1\.(\d{1,12})\.[A-Za-z0-9_-]{22}$/;

export function createDeviceMarkers(pseudonyms: Pseudonyms, deviceDays: number): DeviceMarkers {
  const token = async (id: string, issued: number) => `v1.${issued}.${await pseudonyms.sign(`device:${id}:${issued}`)}`;
  return {
    issue: (id, at) => token(id, Math.floor(at / SECOND)),
    async valid(id, sent, at) {
      if (sent === undefined) return false;
      const match = MARKER.exec(sent);
      if (match === null) return false;
      const issued = Number(match[1]);
      if (issued * SECOND + deviceDays * 86_400 * SECOND < at || issued * SECOND > at + 60 * SECOND) return false;
      return (await token(id, issued)) === sent;
    },
  };
}
