import type { JsonObject } from "../core/decision.js";
import { factsOf, HOOK_IDS, type HookId } from "../core/hooks.js";
import { isJsonObject } from "../core/json.js";
import { completeWebHookCtx } from "../kratos/web-hook-ctx.js";
import { type HookCtx, type KratosCtx, tag, toHookId } from "./ctx-types.js";
import { EXAMPLE_TEXTS } from "./examples.js";

/**
 * The example `hookCtx` starts from when `from` is not given: for each hook, a browser flow
 * with a password form.
 *
 * ```ts
 * DEFAULT_EXAMPLES["registration-after"]; // "password-phone-national"
 * ```
 */
export const DEFAULT_EXAMPLES: Readonly<Record<HookId, string>> = {
  "registration-before": "browser",
  // A phone sign-up with the client's region hint (DE): national numbers normalise out of the box.
  "registration-after": "password-phone-national",
  "login-before": "browser",
  "login-after": "password",
  "settings-after": "profile-unchanged",
};

/**
 * The names of the shipped examples, `<hook>.<scenario>`, sorted: every one, or the given
 * hook's. They are the files in kratos/examples/, the ones `kratos-hooks try --example` reads.
 *
 * ```ts
 * exampleNames("login-after"); // ["login-after.blocked-account", "login-after.password", "login-after.phone"]
 * for (const name of exampleNames()) await callHook(app, exampleCtx(name), { apiKey });
 * ```
 *
 * @throws TypeError for an unknown hook.
 */
export function exampleNames(hook?: HookId): string[] {
  const names = Object.keys(EXAMPLE_TEXTS).sort();
  if (hook === undefined) return names;
  const id = toHookId("exampleNames", hook);
  return names.filter((name) => name.startsWith(`${id}.`));
}

/**
 * `value` with what Kratos always puts in a ctx and a hand-made one may lack filled in, as
 * `kratos-hooks try` fills it (`completeWebHookCtx`, one rule for both).
 */
export function completed(hook: HookId, value: JsonObject, caller: string): KratosCtx {
  if (factsOf(hook).hasIdentity && !isJsonObject(value.identity)) {
    throw new TypeError(`${caller}: the ctx has no "identity" object, which Kratos always sends to ${hook}`);
  }
  completeWebHookCtx(value, hook);
  return value as KratosCtx;
}

/**
 * A shipped example's ctx (kratos/examples/<hook>.<scenario>.json), a fresh copy on each call,
 * exactly as the file holds it: Kratos's full ctx (see `hookCtx`).
 *
 * ```ts
 * const ctx = exampleCtx("registration-after.password-phone-national");
 * ctx.identity.traits; // { phone: "0176 12345678" }
 * ```
 *
 * @throws TypeError for a name that is not a shipped example, naming the ones there are.
 */
export function exampleCtx<H extends HookId>(name: `${H}.${string}`): HookCtx<H>;
export function exampleCtx(name: string): HookCtx;
export function exampleCtx(name: string): HookCtx {
  const text = typeof name === "string" && Object.hasOwn(EXAMPLE_TEXTS, name) ? EXAMPLE_TEXTS[name] : undefined;
  const hook = typeof name === "string" ? HOOK_IDS.find((id) => name.startsWith(`${id}.`)) : undefined;
  if (text === undefined || hook === undefined) {
    const names = hook === undefined ? exampleNames() : exampleNames(hook);
    throw new TypeError(
      `exampleCtx: no shipped example ${JSON.stringify(name) ?? String(name)}; the examples${hook === undefined ? "" : ` for ${hook}`} are: ${names.join(", ")}`,
    );
  }
  return tag(hook, completed(hook, JSON.parse(text), "exampleCtx"));
}
