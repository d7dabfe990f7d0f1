// The one table of what the default configuration (a fresh `npm start`, or `kratos-hooks try`
// without --config) does with each shipped example, kratos/examples/<hook>.<scenario>.json.
// test/http/examples.test.ts checks the HTTP answers against it, test/cli/try.test.ts the
// verdicts `try --example` prints; the HTTP status and body are derived here from the verdict.
import { MESSAGES } from "../../src/core/messages.js";
import { fixtureNames, loadFixture } from "./helpers.js";

/** What Kratos does with the answer, as `try` reports it. */
export type ExampleOutcome =
  | { kind: "continue" }
  /** The identity changes Kratos saves, by dotted path (`schema_id`, `traits.phone`), in report order. */
  | { kind: "save"; changes: [path: string, after: unknown][] }
  /** The messages Kratos shows: the trait they sit under (null: the whole form) and their id. */
  | { kind: "stop"; messages: [node: string | null, id: number][] };

export const EXAMPLES: Record<string, ExampleOutcome> = {
  "login-after.blocked-account": { kind: "continue" }, // blocking by metadata needs denyRules.login.metadataPublic
  "login-after.password": { kind: "continue" },
  "login-after.phone": { kind: "continue" },
  "login-before.browser": { kind: "continue" },
  "registration-after.code-sms-v26": { kind: "continue" },
  "registration-after.disposable-email": { kind: "stop", messages: [["traits.email", MESSAGES.EMAIL_DOMAIN_DISPOSABLE.id]] },
  "registration-after.email-and-phone": {
    kind: "save",
    changes: [
      ["schema_id", "email"],
      ["traits.phone", "+33612345678"],
    ],
  },
  "registration-after.password-email": { kind: "save", changes: [["schema_id", "email"]] },
  "registration-after.password-phone-e164": { kind: "save", changes: [["schema_id", "phone"]] },
  "registration-after.password-phone-national": {
    kind: "save",
    changes: [
      ["schema_id", "phone"],
      ["traits.phone", "+4917612345678"],
    ],
  },
  "registration-after.phone-extension": { kind: "stop", messages: [["traits.phone", MESSAGES.PHONE_EXTENSION_NOT_SUPPORTED.id]] },
  "registration-after.phone-fullwidth": {
    kind: "save",
    changes: [
      ["schema_id", "phone"],
      ["traits.phone", "+819012345678"],
    ],
  },
  "registration-after.phone-invalid": { kind: "stop", messages: [["traits.phone", MESSAGES.PHONE_INVALID.id]] },
  "registration-after.phone-no-region": { kind: "stop", messages: [["traits.phone", MESSAGES.PHONE_NEEDS_INTERNATIONAL_FORMAT.id]] },
  "registration-before.api-script": { kind: "continue" }, // user-agent rules are opt-in
  "registration-before.browser": { kind: "continue" },
  "settings-after.email-to-disposable": { kind: "stop", messages: [["traits.email", MESSAGES.EMAIL_DOMAIN_DISPOSABLE.id]] },
  "settings-after.profile-phone-changed": { kind: "save", changes: [["traits.phone", "+4917612345678"]] },
  "settings-after.profile-unchanged": { kind: "continue" },
  "settings-after.profile-v26-session": { kind: "continue" }, // Kratos v26.2: a session and an external_id, unchanged
};

/** The example files on disk, `<hook>.<scenario>`, sorted (the table's rows must be exactly these). */
export const exampleNames = fixtureNames;

/** The row for an example; throws for a name without one. */
export function outcomeOf(name: string): ExampleOutcome {
  const outcome = EXAMPLES[name];
  if (outcome === undefined) throw new Error(`kratos/examples/${name}.json has no row in test/support/examples.ts`);
  return outcome;
}

const STATUS = { continue: 204, save: 200, stop: 422 } as const;

/**
 * The HTTP answer that gives this outcome: 204; 200 with the identity patch (the schema id when
 * it changes, and the whole traits object, as Kratos replaces it, when a trait changes); or 422
 * with the messages under their JSON pointers.
 */
export function httpAnswerOf(name: string): {
  status: number;
  identity?: { schema_id?: unknown; traits?: Record<string, unknown> };
  messages?: [pointer: string, id: number][];
} {
  const outcome = outcomeOf(name);
  const status = STATUS[outcome.kind];
  if (outcome.kind === "stop") {
    return { status, messages: outcome.messages.map(([node, id]) => [node === null ? "#/" : `#/${node.replaceAll(".", "/")}`, id]) };
  }
  if (outcome.kind === "continue") return { status };
  const identity: { schema_id?: unknown; traits?: Record<string, unknown> } = {};
  for (const [path, after] of outcome.changes) {
    if (path === "schema_id") identity.schema_id = after;
    else if (path.startsWith("traits.")) {
      const sent = (loadFixture(name).identity as { traits: Record<string, unknown> }).traits;
      identity.traits = { ...(identity.traits ?? sent), [path.slice("traits.".length)]: after };
    } else throw new Error(`${name}: no HTTP form for a change of ${path}`);
  }
  return { status, identity };
}
