/**
 * The flows whose form posts the gateway's shield may refuse, in `gateway.shield.uiUrls`'s order:
 * a refused form post is sent back to its flow's UI (`selfservice.flows.<flow>.ui_url`), which
 * fetches the flow through the gateway to show the shield's message. Read by the config schema
 * (the `uiUrls` keys), the gateway (the flow fetches it adds a message to) and the doctor (which
 * compares the `ui_url`s with kratos.yml's). Each is one of Kratos's self-service flows
 * (`SELF_SERVICE_FLOWS` in kratos/self-service.ts, checked in the gateway); verification is not:
 * the shield refuses no verification submit. Core, so that config may read it too.
 */
export const SHIELD_FORM_FLOWS = ["login", "registration", "settings", "recovery"] as const;
export type ShieldFormFlow = (typeof SHIELD_FORM_FLOWS)[number];

/** Whether a flow is one whose form posts the shield may refuse. */
export function isShieldFormFlow(flow: string): flow is ShieldFormFlow {
  return (SHIELD_FORM_FLOWS as readonly string[]).includes(flow);
}
