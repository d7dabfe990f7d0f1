import { randomUUID } from "node:crypto";
import { Configuration, type Identity, IdentityApi } from "@ory/client";

/** A UI message as Kratos renders it (`text.Message`). */
export interface UiText {
  id: number;
  text: string;
  type: string;
  context?: Record<string, unknown>;
}

interface UiNode {
  attributes: { name?: string; value?: unknown };
  messages: UiText[];
}

/** What Kratos answers on a self-service submit: a flow (400), a success (200), or an error. */
export interface KratosAnswer {
  id?: string;
  state?: string;
  ui?: { action?: string; messages?: UiText[]; nodes: UiNode[] };
  session_token?: string;
  session?: { id: string; identity: Identity };
  identity?: Identity;
  /** What the client should do next, e.g. `show_verification_ui` with the verification flow. */
  continue_with?: { action: string; flow?: { id: string; verifiable_address?: string } }[];
  error?: { code: number; reason?: string; message: string };
}

export type FlowKind = "registration" | "login" | "settings" | "verification" | "recovery";

/** A fresh password Kratos accepts (long, and unlike any identifier). */
export function newPassword(): string {
  return `e2e ${randomUUID()}`;
}

/** A password sign-up as a form submits it; `region` goes where our service reads it. */
export function passwordSignUp(traits: Record<string, string>, region?: string, password = newPassword()) {
  return { method: "password", password, traits, ...(region !== undefined && { transient_payload: { phone_region: region } }) };
}

/** Messages attached to the input node `name` (e.g. `traits.phone`). */
export function nodeMessages(flow: KratosAnswer, name: string): UiText[] {
  return flow.ui?.nodes.find((n) => n.attributes.name === name)?.messages ?? [];
}

/** Every message id on the flow, global and per node, e.g. to prove ours is nowhere. */
export function allMessageIds(flow: KratosAnswer): number[] {
  return [...(flow.ui?.messages ?? []), ...(flow.ui?.nodes ?? []).flatMap((n) => n.messages)].map((m) => m.id);
}

/** Kratos's public API (native `/self-service/<flow>/api` flows) and admin API (@ory/client). */
export class KratosClient {
  readonly admin: IdentityApi;

  constructor(
    readonly publicUrl: string,
    adminUrl: string,
  ) {
    this.admin = new IdentityApi(new Configuration({ basePath: adminUrl }));
  }

  /** Creates a native flow; `query` e.g. `?identity_schema=phone` (Kratos v25.4+). */
  async createFlow(kind: FlowKind, headers: Record<string, string> = {}, query = ""): Promise<{ status: number; body: KratosAnswer }> {
    const res = await fetch(`${this.publicUrl}/self-service/${kind}/api${query}`, { headers: { Accept: "application/json", ...headers } });
    return { status: res.status, body: (await res.json()) as KratosAnswer };
  }

  async submit(
    kind: FlowKind,
    flowId: string,
    payload: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: KratosAnswer }> {
    const res = await fetch(`${this.publicUrl}/self-service/${kind}?flow=${flowId}`, {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/json", ...headers },
      body: JSON.stringify(payload),
    });
    return { status: res.status, body: (await res.json()) as KratosAnswer };
  }

  /** Creates a native flow and submits `payload` to it in one go. */
  async run(kind: FlowKind, payload: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: KratosAnswer }> {
    const flow = await this.createFlow(kind, headers);
    if (flow.status !== 200 || !flow.body.id)
      throw new Error(`creating a ${kind} flow answered ${flow.status}: ${JSON.stringify(flow.body)}`);
    return this.submit(kind, flow.body.id, payload, headers);
  }

  /** Identities whose credentials carry `identifier` (Kratos matches identifiers exactly). */
  async identitiesWith(identifier: string): Promise<Identity[]> {
    return (await this.admin.listIdentities({ credentialsIdentifier: identifier })).data;
  }

  async allIdentities(): Promise<Identity[]> {
    return (await this.admin.listIdentities({ perPage: 1000 })).data;
  }
}

/** Cookies Kratos set, sent back as a browser would (enough for one origin on loopback). */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const eq = pair.indexOf("=");
      if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }

  names(): string[] {
    return [...this.cookies.keys()];
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }
}
