// A service of a user's own for the e2e suite (test/e2e/policy-failure.e2e.test.ts): the built-in
// policies, then three of its own, two of which call services that are down (a refused port), as
// an invite service or a risk API can be. Run from the compiled package, as a user's entry would.
import { builtInPolicies, definePolicy, patchMetadataPublic, proceed } from "../../dist/src/index.js";
import { serve } from "../../dist/src/node.js";

// Nothing listens on port 9 (discard): every call is refused at once.
const DOWN = "http://127.0.0.1:9/";

const tag = definePolicy({
  name: "tag",
  hooks: ["registration-after"],
  decide: (input) => patchMetadataPublic(input, { signup_source: "e2e" }),
});

// Numbers ending in 0 need an invite: the invite service is asked, and it is down.
const invites = definePolicy({
  name: "invites",
  hooks: ["registration-after"],
  async decide(input, { signal }) {
    if (!String(input.identity.traits.phone ?? "").endsWith("0")) return proceed();
    await fetch(`${DOWN}invites`, { signal });
    return proceed();
  },
});

// Every login asks a risk service, which is down. It would send the identity's id and how the
// person signed in, which the login-after template sends; the log line shows what it read.
const risk = definePolicy({
  name: "risk",
  hooks: ["login-after"],
  async decide(input, { signal, logger }) {
    const methods = input.session?.authenticationMethods.map((m) => m.method);
    logger.info({ identityId: input.identity.id, aal: input.session?.authenticatorAssuranceLevel, methods }, "risk check");
    await fetch(`${DOWN}risk`, { signal });
    return proceed();
  },
});

await serve({ policies: (config) => [...builtInPolicies(config), tag, invites, risk], handleSignals: true });
