// The patch helpers and decisions, typed per hook: a patch is accepted only where Kratos saves it
// (registration-after, settings-after). test/library/patch-types.test.ts runs tsc on this file and
// expects an error on exactly the lines marked `// type error`, and none elsewhere.
import {
  definePolicy,
  denyField,
  patch,
  patchExternalId,
  patchMetadataPublic,
  patchSchemaId,
  patchTraits,
  proceed,
} from "../../../src/index.js";

// Saved: registration-after and settings-after take every patch helper.
definePolicy({ name: "a", hooks: ["registration-after"], decide: (input) => patchMetadataPublic(input, { plan: "pro" }) });
definePolicy({ name: "b", hooks: ["settings-after"], decide: (input) => patchTraits(input, { nickname: "x" }) });
definePolicy({ name: "c", hooks: ["registration-after", "settings-after"], decide: () => patchSchemaId("phone") });
definePolicy({ name: "d", hooks: ["registration-after"], decide: async () => patchExternalId("crm-1") });

// Not saved: login-after changes stay in memory, before-hooks have no identity.
definePolicy({ name: "e", hooks: ["login-after"], decide: (input) => patchMetadataPublic(input, { seen: true }) }); // type error
definePolicy({ name: "f", hooks: ["login-after"], decide: () => patchSchemaId("phone") }); // type error
definePolicy({ name: "g", hooks: ["login-before"], decide: () => patch({ traits: {} }) }); // type error
definePolicy({ name: "h", hooks: ["registration-before"], decide: async () => patchExternalId(null) }); // type error
definePolicy({ name: "i", hooks: ["login-after", "login-before"], decide: () => ({ kind: "patch", identity: {} }) }); // type error
definePolicy({ name: "j", hooks: ["settings-after"], decide: (input) => patchTraits({ ...input, hook: "login-after" }, {}) }); // type error

// Not saved, but continuing or refusing is fine everywhere.
definePolicy({ name: "k", hooks: ["login-after", "registration-before"], decide: () => proceed() });
definePolicy({ name: "l", hooks: ["login-after"], decide: () => denyField("email", "LOGIN_DENIED") });

// A policy on both kinds patches after narrowing on the hook; without narrowing, the helpers refuse.
definePolicy({
  name: "m",
  hooks: ["registration-after", "login-after"],
  decide: (input) => (input.hook === "registration-after" ? patchMetadataPublic(input, { plan: "pro" }) : proceed()),
});
definePolicy({
  name: "n",
  hooks: ["registration-after", "login-after"],
  decide: (input) => patchMetadataPublic(input, { plan: "pro" }), // type error
});
