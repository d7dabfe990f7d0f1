import * as z from "zod";
import { PHONE_TYPES } from "../core/phone.js";
import { SHIELD_FORM_FLOWS, type ShieldFormFlow } from "../core/shield-flows.js";

// `gateway.shield`: login protection and SMS budgets (docs/shield.md).

const seconds = (fallback: number, what: string) =>
  z
    .number()
    .int()
    .min(1)
    .max(31 * 86_400)
    .default(fallback)
    .describe(what);
const count = (fallback: number, what: string) => z.number().int().min(1).max(1_000_000_000).default(fallback).describe(what);

/** Login protection (docs/shield.md#login-protection): failures counted on the normalized identifier. */
const shieldLogin = z.strictObject({
  windowSeconds: seconds(900, "How long failed logins of one identifier are remembered (per identifier and client, and per identifier)."),
  delayAfter: count(5, "Failures of one identifier from one client after which each next attempt waits (progressive delay)."),
  delaySeconds: seconds(2, "The first wait; it doubles with each further failure, up to `maxDelaySeconds`."),
  maxDelaySeconds: seconds(60, "The longest wait between attempts before the lock."),
  lockAfter: count(10, "Failures of one identifier from one client that lock it for that client until the window ends."),
  identifierLockAfter: count(
    25,
    "Failures of one identifier from all clients together that lock it for every client but the owner's known ones (the device marker).",
  ),
  clientWindowSeconds: seconds(3600, "How long one client's failures across identifiers are remembered (credential stuffing)."),
  clientLockAfter: count(10, "Failures from one client across identifiers that lock the client out of logins; never reset by a success."),
  clientCreditPerSuccess: z
    .number()
    .int()
    .min(0)
    .max(1000)
    .default(3)
    .describe(
      "Failures a client may add per distinct identifier that signed in from it (a carrier NAT's many real users); 0 turns it off.",
    ),
  clientMaxCredit: z.number().int().min(0).max(1_000_000).default(300).describe("The most a client's credit from successes can add."),
  deviceDays: z
    .number()
    .int()
    .min(1)
    .max(3650)
    .default(90)
    .describe("Days a device marker (the owner's escape from an identifier-wide lock) stays valid."),
});

/** SMS budgets (docs/shield.md#sms-budgets): code-sending submits counted per destination, client, prefix, country and globally. */
const shieldSms = z.strictObject({
  windowSeconds: seconds(3600, "The window of the per-number, per-client, per-prefix and per-country budgets."),
  perNumber: count(5, "Codes sent to one number per window."),
  perClient: count(30, "Code-sending submits from one client per window."),
  perPrefix: count(
    5,
    "Codes sent to one number block (all digits but the last `prefixHiddenDigits`) per window: sequential-number pumping.",
  ),
  prefixHiddenDigits: z
    .number()
    .int()
    .min(1)
    .max(6)
    .default(3)
    .describe("The digits of a number that make up its block (1000 numbers for 3)."),
  perCountry: count(2000, "Codes sent to one country calling code per window."),
  perMinute: count(600, "Codes sent per minute in all."),
  refuseTypes: z
    .array(z.enum([...PHONE_TYPES, "UNKNOWN"]))
    .default(["PREMIUM_RATE", "SHARED_COST", "UNKNOWN"])
    .describe("Number types never sent a code (libphonenumber's; `UNKNOWN`: a valid number of no known type)."),
});

const uiUrl = (flow: ShieldFormFlow) =>
  z
    .url()
    .nullable()
    .default(null)
    .describe(`\`selfservice.flows.${flow}.ui_url\`, or null: a refused form post then gets a page of the gateway's own (429).`);

/** One `ui_url` key per flow whose form posts the shield may refuse (`SHIELD_FORM_FLOWS`), in its order. */
const uiUrls = z.strictObject(
  Object.fromEntries(SHIELD_FORM_FLOWS.map((flow) => [flow, uiUrl(flow)])) as Record<ShieldFormFlow, ReturnType<typeof uiUrl>>,
);

/** `gateway.shield`. */
export const shield = z.strictObject({
  enabled: z.boolean().default(true).describe("Run the shield (login protection and SMS budgets) on the gateway's self-service submits."),
  failMode: z
    .enum(["open", "closed"])
    .default("open")
    .describe("When the store cannot answer: `open` forwards the attempt uncounted, `closed` refuses it (503)."),
  perClient: z
    .enum(["auto", "on", "off"])
    .default("auto")
    .describe(
      "Count per client address: `auto` does, unless the peer is a private address and `trustForwardedHeaders` is off (an ingress in front: every client would share one address).",
    ),
  uiUrls: uiUrls
    .prefault({})
    .describe("Kratos's `selfservice.flows.<flow>.ui_url`: where a refused form post is sent back to (303), as Kratos would send it."),
  login: shieldLogin.prefault({}),
  sms: shieldSms.prefault({}),
});
export type ShieldConfig = z.infer<typeof shield>;
