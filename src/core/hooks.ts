/**
 * The hook ids we serve. One id is the same string in the route (`POST /hooks/<id>`), the
 * Jsonnet template name (`kratos/hooks/<id>.jsonnet`), the fixture names and the test titles.
 */
export const HOOK_IDS = ["registration-before", "registration-after", "login-before", "login-after", "settings-after"] as const;

export type HookId = (typeof HOOK_IDS)[number];

/** Before-hooks run before a flow exists and carry no identity (`selfservice/hook/web_hook.go`). */
export type BeforeHookId = Extract<HookId, `${string}-before`>;
export type AfterHookId = Exclude<HookId, BeforeHookId>;

export function isHookId(value: string): value is HookId {
  return (HOOK_IDS as readonly string[]).includes(value);
}

export function isBeforeHook(hook: HookId): hook is BeforeHookId {
  return hook.endsWith("-before");
}

/**
 * Hooks whose `200 {"identity": …}` answer Kratos persists: registration and settings
 * pre-persist (contract §2.5). Login-after changes are kept in memory only, and a before-hook
 * must never answer with an identity (Kratos dereferences a nil identity).
 */
export function canPatchIdentity(hook: HookId): boolean {
  return hook === "registration-after" || hook === "settings-after";
}
