/**
 * Kratos's self-service flows, in kratos.yml's order: each has its `selfservice.flows.<flow>`
 * block and its public routes (`/self-service/<flow>`, `…/browser`, `…/api`, `…/flows`; Kratos
 * v1.3.1 `selfservice/flow/<flow>/handler.go`). Not to be confused with `HookFlow`
 * (core/hooks.ts): the flows whose hooks kratos-hooks serves.
 */
export const SELF_SERVICE_FLOWS = ["registration", "login", "settings", "verification", "recovery"] as const;
export type SelfServiceFlow = (typeof SELF_SERVICE_FLOWS)[number];
