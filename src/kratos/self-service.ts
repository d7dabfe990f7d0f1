/**
 * Kratos's self-service flows, in kratos.yml's order: each has its `selfservice.flows.<flow>`
 * block and its public routes (`/self-service/<flow>`, `…/browser`, `…/api`, `…/flows`; Kratos
 * v1.3.1 `selfservice/flow/<flow>/handler.go`). Not to be confused with `HookFlow`
 * (core/hooks.ts): the flows whose hooks kratos-hooks serves.
 */
export const SELF_SERVICE_FLOWS = ["registration", "login", "settings", "verification", "recovery"] as const;
export type SelfServiceFlow = (typeof SELF_SERVICE_FLOWS)[number];

/**
 * The flows whose `after` section has per-method lists (`after.<method>.hooks`), each of which
 * replaces the flow's own `after.hooks` for its method (driver/registry_default_{registration,
 * login,settings}.go). Recovery and verification have only the flow's list.
 */
export const METHOD_FLOWS = ["registration", "login", "settings"] as const satisfies readonly SelfServiceFlow[];
export type MethodFlow = (typeof METHOD_FLOWS)[number];
