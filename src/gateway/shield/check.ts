import type { Pseudonyms } from "./keys.js";
import type { Outcome } from "./outcome.js";
import type { ShieldStore } from "./store.js";

/** Why the shield refuses an attempt; each is a metric label, a log field and a message. */
export type ShieldReason =
  | "login_delayed"
  | "login_locked"
  | "identifier_locked"
  | "client_locked"
  | "sms_number_type"
  | "sms_country"
  | "sms_client_budget"
  | "sms_number_budget"
  | "sms_prefix_budget"
  | "sms_country_budget"
  | "sms_global_budget"
  | "store_unavailable";

export interface ShieldRefusal {
  reason: ShieldReason;
  /** When the client may try again (epoch ms), if that is known. */
  retryAt: number | undefined;
  /** The field the refusal is about (`identifier`, `traits.phone`), for the message's place. */
  field?: string;
}

/** What the shield records after Kratos answered, and hands back to the client. */
export interface AfterAnswer {
  /** A device marker to issue (a success): the owner's way past an identifier-wide lock. */
  device?: string;
  /** A lock that began with this failure, for the metric. */
  locked?: "login_locked" | "identifier_locked" | "client_locked";
  /**
   * Sends the store's writes for this outcome; the answer need not wait for them (on Redis they
   * go on the same connection, ahead of any later attempt's reads). Rejects when the store fails.
   */
  write: () => Promise<unknown>;
}

/** The shield's verdict on one attempt before it is forwarded. */
export interface ShieldCheck {
  refusal?: ShieldRefusal;
  /** Records Kratos's answer (login attempts); absent when there is nothing to record. */
  after?: (outcome: Outcome) => Promise<AfterAnswer>;
  /** The pseudonyms of what was counted, for the log line. */
  subject?: string;
  client?: string;
}

/** What the login and SMS checks count with: the store, the pseudonyms of what they count, and the clock. */
export interface CheckDeps {
  store: ShieldStore;
  pseudonyms: Pseudonyms;
  now: () => number;
}

/** A second in ms: the config's windows are in seconds, the store's in ms. */
export const SECOND = 1000;
