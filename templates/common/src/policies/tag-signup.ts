import { definePolicy, patchMetadataPublic } from "kratos-hooks";

/**
 * Tags every new identity with where it signed up: `metadata_public.signup_source`, keeping the
 * keys already there. It runs on registration-after, after the built-in policies (the order is
 * set where the service is started), so it sees the identity as they left it, and Kratos saves
 * what the hook answers.
 *
 * Make it yours: read `input.identity.traits`, return `proceed()` to change nothing, or
 * `denyField("email", message)` to refuse the sign-up with a message under a form field.
 */
export const tagSignup = definePolicy({
  name: "tag-signup",
  hooks: ["registration-after"],
  decide: (input) => patchMetadataPublic(input, { signup_source: "my-app" }),
});
