import { defineMessage, definePolicy, denyField, denyForm, type Policy, proceed } from "kratos-hooks";

/** Shown under the email field when the address has no invitation. */
export const INVITE_REQUIRED = defineMessage({
  key: "INVITE_REQUIRED",
  id: 4_190_001,
  text: "Sign-up is by invitation only. Use the email address your invitation was sent to.",
});

/** Shown above the form when the invite service cannot answer (it failed, or is unreachable). */
export const INVITES_UNAVAILABLE = defineMessage({
  key: "INVITES_UNAVAILABLE",
  id: 4_190_002,
  text: "We could not check your invitation just now. Please try again in a moment.",
});

/**
 * Invite-only sign-up: a new identity's email must hold an invitation, which another service
 * knows: `GET <invites>/invites/<email>` answers 200 (invited) or 404 (not invited).
 *
 * The check is async I/O with the time budget's signal: when the invite service hangs, the
 * budget fires, the request is cancelled, and the answer follows the configured `failMode`.
 * A failing invite service is refused with a message of its own rather than let through.
 */
export function inviteOnly(invites: URL, emailTrait = "email"): Policy {
  return definePolicy({
    name: "invite-only",
    hooks: ["registration-after"],
    async decide(input, { signal, logger }) {
      const email = input.identity.traits[emailTrait];
      if (typeof email !== "string" || email.trim() === "") return denyField(emailTrait, INVITE_REQUIRED);
      let status: number;
      try {
        const answer = await fetch(new URL(`invites/${encodeURIComponent(email.trim().toLowerCase())}`, invites), { signal });
        await answer.body?.cancel();
        status = answer.status;
      } catch (error) {
        // The budget fired: the pipeline answers with failMode, whatever is returned here.
        if (signal.aborted) throw error;
        logger.warn({ error: (error as Error).name }, "invite service unreachable");
        return denyForm(INVITES_UNAVAILABLE);
      }
      if (status === 200) return proceed();
      if (status === 404) return denyField(emailTrait, INVITE_REQUIRED);
      logger.warn({ status }, "invite service failed");
      return denyForm(INVITES_UNAVAILABLE);
    },
  });
}
