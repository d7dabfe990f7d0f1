/** A self-service flow that runs hooks we serve. */
export type HookFlow = "registration" | "login" | "settings";

/** What Kratos does when a hook answers with messages (contract §2.4, measured on v1.3.1). */
export type DenialEffect =
  /** A before-hook: Kratos does not create the flow; the person sees the messages on a new form. */
  | "flow-not-created"
  /** Registration after the form, before the identity is saved: no identity is created. */
  | "identity-not-created"
  /** Login after the credentials were checked: no session is issued. */
  | "no-session"
  /** Settings after the form, before the change is saved: the identity is not updated. */
  | "identity-not-updated";

/** The facts of one hook point. Everything that asks "what is this hook" reads this table. */
export interface HookFacts {
  flow: HookFlow;
  when: "before" | "after";
  /** `ctx.identity` is in the payload. Before-hooks run before a flow exists and carry none. */
  hasIdentity: boolean;
  /**
   * Kratos persists a `200 {"identity": …}` answer (registration and settings pre-persist,
   * contract §2.5). Login-after changes stay in memory; a before-hook must never answer with an
   * identity (Kratos dereferences a nil identity).
   */
  persistsPatch: boolean;
  /** The identity is new: Kratos creates it from the answer (the registration flow). */
  createsIdentity: boolean;
  denial: DenialEffect;
  /**
   * Where a `response.parse` web_hook for this hook sits in kratos.yml: the flow's own
   * `before.hooks`, or (after-hooks whose answer Kratos reads before saving) the per-method lists
   * `after.<method>.hooks`, since Kratos skips parse hooks in the global `after.hooks`.
   */
  list: "flow" | "per-method" | "flow-or-per-method";
}

/** Every before-hook: it runs before a flow exists, so it has no identity to change. */
const BEFORE = {
  when: "before",
  hasIdentity: false,
  persistsPatch: false,
  createsIdentity: false,
  denial: "flow-not-created",
  list: "flow",
} as const;

/**
 * The hook points we serve. One id is the same string in the route (`POST /hooks/<id>`), the
 * Jsonnet template name (`kratos/hooks/<id>.jsonnet`), the example names and the test titles.
 * Adding a hook point is one row here plus the policies that run on it.
 */
export const HOOKS = {
  "registration-before": { flow: "registration", ...BEFORE },
  "registration-after": {
    flow: "registration",
    when: "after",
    hasIdentity: true,
    persistsPatch: true,
    createsIdentity: true,
    denial: "identity-not-created",
    list: "per-method",
  },
  "login-before": { flow: "login", ...BEFORE },
  "login-after": {
    flow: "login",
    when: "after",
    hasIdentity: true,
    persistsPatch: false,
    createsIdentity: false,
    denial: "no-session",
    list: "flow-or-per-method",
  },
  "settings-after": {
    flow: "settings",
    when: "after",
    hasIdentity: true,
    persistsPatch: true,
    createsIdentity: false,
    denial: "identity-not-updated",
    list: "per-method",
  },
} as const satisfies Record<string, HookFacts>;

/** A hook point we serve, the same string as its route (`POST /hooks/<id>`): `registration-after`, … */
export type HookId = keyof typeof HOOKS;

/**
 * Every hook id, in the table's order.
 *
 * ```ts
 * import { HOOK_IDS } from "kratos-hooks";
 * for (const hook of HOOK_IDS) console.log(`POST /hooks/${hook}`);
 * ```
 */
export const HOOK_IDS: readonly HookId[] = Object.keys(HOOKS) as HookId[];

/** Hooks that carry no identity, by the table. */
export type BeforeHookId = { [K in HookId]: (typeof HOOKS)[K]["hasIdentity"] extends false ? K : never }[HookId];
/** Hooks that carry the identity (`input.identity` is set). */
export type AfterHookId = Exclude<HookId, BeforeHookId>;
/** Hooks whose `200 {"identity": …}` answer Kratos saves: registration-after and settings-after. */
export type PatchableHookId = { [K in HookId]: (typeof HOOKS)[K]["persistsPatch"] extends true ? K : never }[HookId];

export function isHookId(value: string): value is HookId {
  return Object.hasOwn(HOOKS, value);
}

export function factsOf(hook: HookId): HookFacts {
  return HOOKS[hook];
}

/** The hook ids whose facts pass `test`, in table order. */
export function hooksWhere(test: (facts: HookFacts) => boolean): ReadonlySet<HookId> {
  return new Set(HOOK_IDS.filter((id) => test(HOOKS[id])));
}

/** The hook served at a place in kratos.yml, or null where we serve none. */
export function hookAt(flow: string, when: "before" | "after"): HookId | null {
  return HOOK_IDS.find((id) => HOOKS[id].flow === flow && HOOKS[id].when === when) ?? null;
}

export function isBeforeHook(hook: HookId): hook is BeforeHookId {
  return !HOOKS[hook].hasIdentity;
}

/** Whether Kratos persists a `200 {"identity": …}` answer on this hook. */
export function canPatchIdentity(hook: HookId): boolean {
  return HOOKS[hook].persistsPatch;
}
