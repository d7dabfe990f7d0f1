// A stand-in for Kratos's public API, for benchmarks that need volume (tens of thousands of
// logins and code sends a minute) and counts of what Kratos did. It answers the self-service
// login and registration routes as Kratos v26.2.0 does with the project's kratos.yml; where
// v1.3.1 answers otherwise, the difference is named beside the code. No password hashing, no
// database: users and flows live in maps. test/e2e/kratos-standin.e2e.test.ts drives the same
// requests against real Kratos (v1.3.1 and v26.2.0) and this stand-in and compares what the
// gateway's shield reads: status, `state`, message ids, session or token, Location, cookie names.
//
// Sources (git -C /work/.mirror/ory+kratos/repo show v26.2.0:<file>):
// selfservice/flow/login/{handler,hook,error}.go, selfservice/flow/registration/*,
// selfservice/strategy/password/login.go, selfservice/strategy/code/strategy_{login,registration}.go,
// selfservice/flow/request.go (EnsureCSRF), x/isjsonrequest.go, x/nosurfx/nosurf.go, x/normalize.go,
// text/id.go and text/message_*.go (ids and texts).
import { createHash, randomBytes, randomInt, randomUUID } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { parsePhoneNumberFromString } from "libphonenumber-js/max";

/** A user to seed: the identifier as Kratos stores it (lower-cased; a valid phone in E.164), and a password (none: code only). */
export interface StandInUser {
  identifier: string;
  password?: string;
}

export type StandInFlowKind = "login" | "registration";
type FlowType = "api" | "browser";

/** What a submit came to, as Kratos would have it: one value per answer the shield classifies. */
export type StandInOutcome =
  | "signed_in" // password or code login: a session
  | "invalid_credentials" // 4000006
  | "code_sent" // 1010014 (login) / 1040005 (registration): an SMS or email went out
  | "no_code_account" // 4000035: code login for an identifier with no code credential
  | "code_invalid" // 4010008 / 4040003
  | "registered" // an identity and a session
  | "duplicate" // 4000007
  | "invalid_phone" // 4000041
  | "no_identifier" // 4000009: the schema has no code identifier in the submitted traits
  | "required" // 4000002: a field missing
  | "native_refused" // 4000001: an API flow submitted with a Cookie or an Origin
  | "csrf_violation" // 403, browser flows
  | "no_strategy" // 4010002 / 4010003
  | "no_flow"; // 400: the flow query parameter missing, malformed or unknown

export interface StandInSubmit {
  flow: StandInFlowKind;
  flowType: FlowType;
  method: string;
  outcome: StandInOutcome;
  /** The identifier Kratos looked up or sent to (normalized as Kratos normalizes it), when there was one. */
  identifier: string | undefined;
  headers: IncomingHttpHeaders;
}

export interface StandInCounts {
  requests: number;
  submits: number;
  loginsSucceeded: number;
  /** Answers 4000006: a wrong password or an unknown identifier. */
  loginsFailed: number;
  /** Codes "sent" by SMS, per number (E.164). */
  readonly smsSent: Map<string, number>;
  /** Codes "sent" by email, per address. */
  readonly emailsSent: Map<string, number>;
  registrations: number;
}

export interface StandInOptions {
  users?: readonly StandInUser[];
  /** Kratos's `serve.public.base_url` (form actions, the CSRF cookie's name); default the stand-in's own URL. */
  baseUrl?: string;
  /** Kratos's `selfservice.flows.<flow>.ui_url`: default kratos.yml's, `http://127.0.0.1:3000/<flow>`. */
  uiUrls?: Partial<Record<StandInFlowKind | "error", string>>;
  /** `selfservice.default_browser_return_url`; default kratos.yml's. */
  returnTo?: string;
  port?: number;
  /** Called once per submit, after the answer is decided. */
  onSubmit?: (submit: StandInSubmit) => void;
}

export interface KratosStandIn {
  readonly url: string;
  readonly baseUrl: string;
  readonly counts: StandInCounts;
  /** Adds users (an identifier already there gets the new password). */
  seed(users: readonly StandInUser[]): void;
  /** The last code sent to an address (E.164 or email), to finish a code flow. */
  lastCode(address: string): string | undefined;
  /** All SMS sent. */
  smsTotal(): number;
  close(): Promise<void>;
}

interface Message {
  id: number;
  text: string;
  type: "info" | "error";
  context?: Record<string, unknown>;
}

interface Identity {
  id: string;
  identifier: string;
  password: string | undefined;
  channel: "sms" | "email";
  createdAt: string;
}

interface Flow {
  id: string;
  kind: StandInFlowKind;
  type: FlowType;
  state: "choose_method" | "sent_email";
  issuedAt: string;
  expiresAt: string;
  requestUrl: string;
  /** Registration: `?identity_schema=` (v25.4+; v1.3.1 ignores it and uses `default`). */
  identitySchema: string | undefined;
  active: string | undefined;
  messages: Message[];
  nodeMessages: Map<string, Message[]>;
  /** Values shown back in the form (identifier, traits.*). */
  values: Map<string, string>;
  /** The code sent in this flow, and to whom. */
  code: { to: string; code: string; channel: "sms" | "email" } | undefined;
  csrf: string | undefined;
}

// text/message_*.go at v26.2.0. v1.3.1's texts of 1010014 and 1040005 speak of "an email"; the ids agree.
const MESSAGES = {
  invalidCredentials: {
    id: 4000006,
    type: "error",
    text: "The provided credentials are invalid, check for spelling mistakes in your password or username, email address, or phone number.",
  },
  loginCodeSent: {
    id: 1010014,
    type: "info",
    text: "A code was sent to the address you provided. If you didn't receive it, please check the spelling of the address and try again.",
  },
  registrationCodeSent: {
    id: 1040005,
    type: "info",
    text: "A code has been sent to the address(es) you provided. If you have not received a message, check the spelling of the address and retry the registration.",
  },
  noCodeUser: { id: 4000035, type: "error", text: "This account does not exist or has not setup sign in with code." },
  loginCodeInvalid: { id: 4010008, type: "error", text: "The login code is invalid or has already been used. Please try again." },
  registrationCodeInvalid: {
    id: 4040003,
    type: "error",
    text: "The registration code is invalid or has already been used. Please try again.",
  },
  duplicate: {
    id: 4000007,
    type: "error",
    text: "An account with the same identifier (email, phone, username, ...) exists already.",
  },
  identifierMissing: {
    id: 4000009,
    type: "error",
    text: "Could not find any login identifiers. Did you forget to set them? This could also be caused by a server misconfiguration.",
  },
  noLoginStrategy: {
    id: 4010002,
    type: "error",
    text: "Could not find a strategy to log you in with. Did you fill out the form correctly?",
  },
  noRegistrationStrategy: {
    id: 4010003,
    type: "error",
    text: "Could not find a strategy to sign you up with. Did you fill out the form correctly?",
  },
} as const satisfies Record<string, Message>;

const required = (property: string): Message => ({
  id: 4000002,
  type: "error",
  text: `Property ${property} is missing.`,
  context: { property },
});
const invalidPhone = (value: string): Message => ({ id: 4000041, type: "error", text: "Enter a valid phone number", context: { value } });
/** selfservice/flow/request.go: EnsureCSRF's refusals of a native flow, shown as 4000001 (ui/container ParseError of a 400). */
const nativeRefused = (header: "Origin" | "Cookie"): Message => ({
  id: 4000001,
  type: "error",
  text:
    header === "Origin"
      ? `The HTTP Request Header included the "Origin" key, indicating that this request was made as part of an AJAX request in a Browser. The flow however was initiated as an API request. To prevent potential misuse and mitigate several attack vectors including CSRF, the request has been blocked. Please consult the documentation.`
      : `The HTTP Request Header included the "Cookie" key, indicating that this request was made by a Browser. The flow however was initiated as an API request. To prevent potential misuse and mitigate several attack vectors including CSRF, the request has been blocked. Please consult the documentation.`,
});

/** x/normalize.go GracefulNormalization: E.164 when it parses with no region and is valid; an email lower-cased; else trimmed. */
function gracefulNormalization(value: string): string {
  const phone = parsePhoneNumberFromString(value);
  if (phone?.isValid()) return phone.number;
  return value.includes("@") ? value.trim().toLowerCase() : value.trim();
}

/** How the stand-in stores a seeded identifier: a valid phone in E.164, anything else lower-cased and trimmed. */
function storedIdentifier(value: string): string {
  const phone = parsePhoneNumberFromString(value.trim());
  return phone?.isValid() ? phone.number : value.trim().toLowerCase();
}

/**
 * x/isjsonrequest.go: JSON when content negotiation over `text/html, text/*, * /*, application/json`
 * (default text/html; golang/gddo httputil.NegotiateContentType) picks JSON, or when Content-Type
 * is exactly `application/json`.
 */
function isJSONRequest(headers: IncomingHttpHeaders): boolean {
  if (headers["content-type"] === "application/json") return true;
  const offers = ["text/html", "text/*", "*/*", "application/json"];
  const specs = (headers.accept ?? "")
    .split(",")
    .map((part) => {
      const [value = "", ...params] = part.split(";").map((s) => s.trim());
      const q = params.find((p) => p.startsWith("q="));
      return { value: value.toLowerCase(), q: q === undefined ? 1 : Number(q.slice(2)) };
    })
    .filter((spec) => spec.value !== "");
  let best = "text/html";
  let bestQ = -1;
  let bestWild = 3;
  for (const offer of offers) {
    for (const spec of specs) {
      if (spec.q === 0 || spec.q < bestQ) continue;
      if (spec.value === "*/*") {
        if (spec.q > bestQ || bestWild > 2) [best, bestQ, bestWild] = [offer, spec.q, 2];
      } else if (spec.value.endsWith("/*")) {
        if (offer.startsWith(spec.value.slice(0, -1)) && (spec.q > bestQ || bestWild > 1)) [best, bestQ, bestWild] = [offer, spec.q, 1];
      } else if (spec.value === offer && (spec.q > bestQ || bestWild > 0)) {
        [best, bestQ, bestWild] = [offer, spec.q, 0];
      }
    }
  }
  return best === "application/json";
}

function cookiesOf(headers: IncomingHttpHeaders): Map<string, string> {
  const jar = new Map<string, string>();
  for (const pair of (headers.cookie ?? "").split(";")) {
    const eq = pair.indexOf("=");
    if (eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  return jar;
}

/** A submitted body as Kratos's decoder reads it: JSON (nested or dotted keys) or a form (the first value of a key wins). */
function parseBody(headers: IncomingHttpHeaders, raw: string): Map<string, string> {
  const fields = new Map<string, string>();
  if ((headers["content-type"] ?? "").startsWith("application/json")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return fields;
    }
    const visit = (value: unknown, prefix: string) => {
      if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        for (const [key, inner] of Object.entries(value)) visit(inner, prefix === "" ? key : `${prefix}.${key}`);
      } else if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
        if (!fields.has(prefix)) fields.set(prefix, String(value));
      }
    };
    visit(parsed, "");
    return fields;
  }
  for (const [key, value] of new URLSearchParams(raw)) if (!fields.has(key)) fields.set(key, value);
  return fields;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[]>;
  body: string;
}

const json = (status: number, value: unknown, headers: Record<string, string | string[]> = {}): Answer => ({
  status,
  headers: { "content-type": "application/json; charset=utf-8", vary: "Cookie", ...headers },
  body: JSON.stringify(value),
});
/** herodot's error envelope (Content-Type without charset, as Kratos sends it). */
const kratosError = (code: number, status: string, message: string, reason?: string, extra: Record<string, unknown> = {}): Answer => ({
  status: code,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ error: { ...extra, code, status, ...(reason !== undefined && { reason }), message } }),
});
const seeOther = (location: string, headers: Record<string, string | string[]> = {}, status = 303): Answer => ({
  status,
  headers: { location, ...headers },
  body: "",
});

/** Starts the stand-in on a loopback port (free unless `port`). */
export async function startKratosStandIn(options: StandInOptions = {}): Promise<KratosStandIn> {
  const users = new Map<string, Identity>();
  const flows = new Map<string, Flow>();
  const codes = new Map<string, string>();
  const counts: StandInCounts = {
    requests: 0,
    submits: 0,
    loginsSucceeded: 0,
    loginsFailed: 0,
    smsSent: new Map(),
    emailsSent: new Map(),
    registrations: 0,
  };
  const ui = {
    login: options.uiUrls?.login ?? "http://127.0.0.1:3000/login",
    registration: options.uiUrls?.registration ?? "http://127.0.0.1:3000/registration",
    error: options.uiUrls?.error ?? "http://127.0.0.1:3000/error",
  };
  const returnTo = options.returnTo ?? "http://127.0.0.1:3000/";
  let base = "";
  let csrfCookie = "";

  const addUser = (identifier: string, password: string | undefined): Identity => {
    const stored = storedIdentifier(identifier);
    const user: Identity = {
      id: randomUUID(),
      identifier: stored,
      password,
      channel: stored.includes("@") ? "email" : "sms",
      createdAt: new Date().toISOString(),
    };
    users.set(stored, user);
    return user;
  };
  const seed = (list: readonly StandInUser[]) => {
    for (const user of list) addUser(user.identifier, user.password);
  };
  seed(options.users ?? []);

  const send = (flow: Flow, to: string, channel: "sms" | "email") => {
    const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
    flow.code = { to, code, channel };
    codes.set(to, code);
    const sent = channel === "sms" ? counts.smsSent : counts.emailsSent;
    sent.set(to, (sent.get(to) ?? 0) + 1);
  };

  // x/nosurfx/nosurf.go CSRFCookieName: csrf_token_ + hex(sha256(base_url)).
  const csrfCookieLine = (token: string) => `${csrfCookie}=${token}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax`;
  const sessionCookieLine = () =>
    `ory_kratos_session=${randomBytes(48).toString("base64url")}; Path=/; Expires=${new Date(Date.now() + 86_400_000).toUTCString()}; Max-Age=86399; HttpOnly; SameSite=Lax`;

  const flowUrl = (flow: Flow) => `${flow.kind === "login" ? ui.login : ui.registration}?flow=${flow.id}`;

  const node = (group: string, name: string, type: string, extra: Record<string, unknown> = {}, label?: Message) => ({
    type: "input",
    group,
    attributes: { name, type, ...extra, disabled: false, node_type: "input" },
    messages: [] as Message[],
    meta: label === undefined ? {} : { label },
  });
  const label = (id: number, text: string): Message => ({ id, text, type: "info" });

  /** The form as Kratos renders it for the kratos.yml methods (password, code); close, not byte-identical. */
  const nodesOf = (flow: Flow) => {
    const csrf = node("default", "csrf_token", "hidden", { value: flow.type === "browser" ? (flow.csrf ?? "") : "", required: true });
    const list: ReturnType<typeof node>[] = [];
    if (flow.kind === "login") {
      if (flow.state === "sent_email") {
        list.push(
          node("default", "identifier", "hidden", { value: flow.values.get("identifier") ?? "", required: true }, label(1070004, "ID")),
          node("code", "method", "hidden", { value: "code" }),
          node("code", "code", "text", { required: true }, label(1070013, "Login code")),
          node("code", "method", "submit", { value: "code" }, label(1070009, "Continue")),
          node("code", "resend", "submit", { value: "code" }, label(1070008, "Resend code")),
        );
        if (flow.type === "browser") list.push(csrf);
      } else {
        list.push(
          csrf,
          node("default", "identifier", "text", { value: flow.values.get("identifier") ?? "", required: true }, label(1070004, "ID")),
          node("code", "method", "submit", { value: "code" }, label(1010015, "Send sign in code")),
          node("password", "password", "password", { required: true, autocomplete: "current-password" }, label(1070001, "Password")),
          node("password", "method", "submit", { value: "password" }, label(1010022, "Sign in with password")),
        );
      }
    } else {
      const traits = flow.identitySchema === "phone" ? ["traits.phone"] : ["traits.email", "traits.phone"];
      list.push(csrf);
      for (const name of traits) {
        const value = flow.values.get(name);
        list.push(
          node("default", name, flow.state === "sent_email" ? "hidden" : name === "traits.email" ? "email" : "text", {
            ...(value !== undefined && { value }),
          }),
        );
      }
      if (flow.state === "sent_email") {
        list.push(
          node("code", "method", "hidden", { value: "code" }),
          node("code", "code", "text", { required: true }, label(1070012, "Registration code")),
          node("code", "method", "submit", { value: "code" }, label(1070009, "Continue")),
          node("code", "resend", "submit", { value: "code" }, label(1070008, "Resend code")),
        );
      } else {
        list.push(node("profile", "method", "submit", { value: "profile" }, label(1040001, "Sign up")));
      }
    }
    for (const n of list) n.messages = flow.nodeMessages.get(n.attributes.name) ?? [];
    return list;
  };

  /** The flow as Kratos serializes it (`ui.messages` omitted when empty, as Kratos's omitempty does). */
  const render = (flow: Flow) => ({
    id: flow.id,
    organization_id: null,
    type: flow.type,
    expires_at: flow.expiresAt,
    issued_at: flow.issuedAt,
    request_url: flow.requestUrl,
    ...(flow.active !== undefined && { active: flow.active }),
    ui: {
      action: `${base}/self-service/${flow.kind}?flow=${flow.id}`,
      method: "POST",
      nodes: nodesOf(flow),
      ...(flow.messages.length > 0 && { messages: flow.messages }),
    },
    ...(flow.kind === "login"
      ? { created_at: flow.issuedAt, updated_at: flow.issuedAt, refresh: false, requested_aal: "aal1" }
      : flow.identitySchema !== undefined && { identity_schema: flow.identitySchema }),
    state: flow.state,
    ...(flow.active !== undefined && { transient_payload: {} }),
  });

  const identityJSON = (user: Identity) => ({
    id: user.id,
    schema_id: user.channel === "sms" ? "phone" : "email",
    schema_url: `${base}/schemas/${Buffer.from(user.channel === "sms" ? "phone" : "email").toString("base64url")}`,
    state: "active",
    state_changed_at: user.createdAt,
    traits: user.channel === "sms" ? { phone: user.identifier } : { email: user.identifier },
    verifiable_addresses: [],
    recovery_addresses: [],
    metadata_public: null,
    created_at: user.createdAt,
    updated_at: user.createdAt,
    organization_id: null,
  });
  const sessionJSON = (user: Identity, method: string, headers: IncomingHttpHeaders) => {
    const now = new Date().toISOString();
    return {
      id: randomUUID(),
      active: true,
      expires_at: new Date(Date.now() + 86_400_000).toISOString(),
      authenticated_at: now,
      authenticator_assurance_level: "aal1",
      authentication_methods: [{ method, aal: "aal1", completed_at: now }],
      issued_at: now,
      identity: identityJSON(user),
      devices: [{ id: randomUUID(), ip_address: "127.0.0.1", user_agent: headers["user-agent"] ?? "", location: "" }],
    };
  };

  const newFlow = (kind: StandInFlowKind, type: FlowType, url: URL, csrf?: string): Flow => {
    const issued = new Date();
    const flow: Flow = {
      id: randomUUID(),
      kind,
      type,
      state: "choose_method",
      issuedAt: issued.toISOString(),
      expiresAt: new Date(issued.getTime() + 3_600_000).toISOString(),
      requestUrl: `${base}${url.pathname}${url.search}`,
      // v25.4+: ?identity_schema= picks a `selfservice_selectable` schema (kratos.yml: phone).
      identitySchema: kind === "registration" ? (url.searchParams.get("identity_schema") ?? undefined) : undefined,
      active: undefined,
      messages: [],
      nodeMessages: new Map(),
      values: new Map(),
      code: undefined,
      csrf: type === "browser" ? (csrf ?? randomBytes(32).toString("base64")) : undefined,
    };
    flows.set(flow.id, flow);
    return flow;
  };

  /** A flow error as login/error.go and registration/error.go write it: a redirect for a browser form, else 400 with the flow. */
  const flowError = (flow: Flow, jsonMode: boolean, messages: Message[], nodeMessages: [string, Message[]][] = []): Answer => {
    flow.messages = messages;
    flow.nodeMessages = new Map(nodeMessages);
    // A registration error sends a browser back with 302 Found, a login error with 303 (both versions).
    if (flow.type === "browser" && !jsonMode) return seeOther(flowUrl(flow), {}, flow.kind === "registration" ? 302 : 303);
    return json(400, render(flow));
  };

  /** Code sent: 400 with the flow (JSON), or 303 to the UI (strategy_login.go loginSendCode, strategy_registration.go). */
  const codeSent = (flow: Flow, jsonMode: boolean, message: Message): Answer => {
    flow.state = "sent_email";
    flow.active = "code";
    flow.messages = [message];
    flow.nodeMessages = new Map();
    if (flow.type === "browser" && !jsonMode) return seeOther(flowUrl(flow));
    return json(400, render(flow));
  };

  /** login/hook.go PostLoginHook and registration's session hook: token for API flows, cookie for browsers. */
  const signedIn = (flow: Flow, user: Identity, method: string, headers: IncomingHttpHeaders, jsonMode: boolean): Answer => {
    flows.delete(flow.id);
    const session = sessionJSON(user, method, headers);
    const identity = flow.kind === "registration" ? { identity: identityJSON(user) } : {};
    if (flow.type === "api") {
      return json(200, { ...identity, session_token: `ory_st_${randomBytes(24).toString("base64url")}`, session, continue_with: null });
    }
    // The CSRF token is regenerated when the identity changes (contract §9.2).
    const cookies = [csrfCookieLine(randomBytes(32).toString("base64")), sessionCookieLine()];
    if (jsonMode) {
      return json(
        200,
        { ...identity, session, continue_with: [{ action: "redirect_browser_to", redirect_browser_to: returnTo }] },
        { "set-cookie": cookies },
      );
    }
    return seeOther(returnTo, { "set-cookie": cookies });
  };

  /** x/nosurfx/nosurf.go ErrInvalidCSRFToken: 403 in JSON; a browser form goes to the error UI. */
  const csrfViolation = (jsonMode: boolean): Answer => {
    if (!jsonMode) return seeOther(`${ui.error}?id=${randomUUID()}`);
    const reason =
      "Please retry the flow and optionally clear your cookies. The request was rejected to protect you from Cross-Site-Request-Forgery (CSRF) which could cause account takeover, leaking personal information, and other serious security issues.";
    return kratosError(403, "Forbidden", "the request was rejected to protect you from Cross-Site-Request-Forgery", reason, {
      id: "security_csrf_violation",
    });
  };

  type Submitted = { answer: Answer; outcome: StandInOutcome; identifier?: string };

  const login = (flow: Flow, body: Map<string, string>, headers: IncomingHttpHeaders, jsonMode: boolean): Submitted => {
    const method = body.get("method") ?? "";
    if (method === "password") {
      const identifier = body.get("identifier") || body.get("password_identifier") || "";
      flow.values.set("identifier", identifier);
      const password = body.get("password") ?? "";
      if (identifier === "" || password === "") {
        const missing = identifier === "" ? "identifier" : "password";
        return { answer: flowError(flow, jsonMode, [], [[missing, [required(missing)]]]), outcome: "required" };
      }
      // Password login looks the identifier up lower-cased and trimmed, nothing more (contract §9.2).
      const key = identifier.trim().toLowerCase();
      const user = users.get(key);
      if (user === undefined || user.password === undefined || user.password !== password) {
        counts.loginsFailed++;
        return { answer: flowError(flow, jsonMode, [MESSAGES.invalidCredentials]), outcome: "invalid_credentials", identifier: key };
      }
      counts.loginsSucceeded++;
      return { answer: signedIn(flow, user, "password", headers, jsonMode), outcome: "signed_in", identifier: key };
    }
    if (method === "code") {
      if (body.get("resend") === "code") flow.state = "choose_method";
      const typed = body.get("address") || body.get("identifier") || "";
      if (flow.state === "choose_method") {
        flow.values.set("identifier", typed);
        if (typed === "") return { answer: flowError(flow, jsonMode, [], [["identifier", [required("identifier")]]]), outcome: "required" };
        const identifier = gracefulNormalization(typed);
        const user = users.get(identifier);
        if (user === undefined) {
          return { answer: flowError(flow, jsonMode, [MESSAGES.noCodeUser]), outcome: "no_code_account", identifier };
        }
        send(flow, user.identifier, user.channel);
        return { answer: codeSent(flow, jsonMode, MESSAGES.loginCodeSent), outcome: "code_sent", identifier };
      }
      const code = body.get("code") ?? "";
      if (code === "") return { answer: flowError(flow, jsonMode, [], [["code", [required("code")]]]), outcome: "required" };
      const identifier = gracefulNormalization(typed);
      const user = users.get(identifier);
      if (user === undefined || flow.code === undefined || flow.code.to !== identifier || flow.code.code !== code) {
        return { answer: flowError(flow, jsonMode, [MESSAGES.loginCodeInvalid]), outcome: "code_invalid", identifier };
      }
      counts.loginsSucceeded++;
      return { answer: signedIn(flow, user, "code", headers, jsonMode), outcome: "signed_in", identifier };
    }
    return { answer: flowError(flow, jsonMode, [MESSAGES.noLoginStrategy]), outcome: "no_strategy" };
  };

  const registration = (flow: Flow, body: Map<string, string>, headers: IncomingHttpHeaders, jsonMode: boolean): Submitted => {
    const method = body.get("method") ?? "";
    // kratos.yml's schemas: `phone` (selectable, v25.4+) has the phone as a code identifier via SMS;
    // `default` has the email as one via email, and the phone as a password identifier only.
    const field = flow.identitySchema === "phone" ? "traits.phone" : "traits.email";
    for (const name of ["traits.email", "traits.phone"]) {
      const value = body.get(name);
      if (value !== undefined) flow.values.set(name, value);
    }
    const typed = body.get(field);
    let identifier: string | undefined;
    if (typed !== undefined) {
      if (field === "traits.phone") {
        // The phone schema's `format: tel` (Kratos parses with no region): a national number fails here (4000041).
        const phone = parsePhoneNumberFromString(typed);
        if (!phone?.isValid()) {
          return { answer: flowError(flow, jsonMode, [], [[field, [invalidPhone(typed)]]]), outcome: "invalid_phone" };
        }
        identifier = phone.number;
      } else {
        identifier = typed.trim().toLowerCase();
      }
    }
    if (method === "code") {
      if (body.get("resend") === "code") flow.state = "choose_method";
      if (identifier === undefined) return { answer: flowError(flow, jsonMode, [MESSAGES.identifierMissing]), outcome: "no_identifier" };
      if (flow.state === "choose_method") {
        // strategy_registration.go registrationSendEmail: the code goes out whether or not the
        // identifier is taken; a duplicate is found only when the identity is created.
        send(flow, identifier, field === "traits.phone" ? "sms" : "email");
        return { answer: codeSent(flow, jsonMode, MESSAGES.registrationCodeSent), outcome: "code_sent", identifier };
      }
      const code = body.get("code") ?? "";
      if (code === "") return { answer: flowError(flow, jsonMode, [], [["code", [required("code")]]]), outcome: "required" };
      if (flow.code === undefined || flow.code.to !== identifier || flow.code.code !== code) {
        return { answer: flowError(flow, jsonMode, [MESSAGES.registrationCodeInvalid]), outcome: "code_invalid", identifier };
      }
    } else if (method === "password") {
      if (identifier === undefined) return { answer: flowError(flow, jsonMode, [MESSAGES.identifierMissing]), outcome: "no_identifier" };
      if (!body.get("password")) {
        return { answer: flowError(flow, jsonMode, [], [["password", [required("password")]]]), outcome: "required" };
      }
    } else {
      return { answer: flowError(flow, jsonMode, [MESSAGES.noRegistrationStrategy]), outcome: "no_strategy" };
    }
    if (users.has(identifier)) return { answer: flowError(flow, jsonMode, [MESSAGES.duplicate]), outcome: "duplicate", identifier };
    const user = addUser(identifier, method === "password" ? body.get("password") : undefined);
    counts.registrations++;
    return { answer: signedIn(flow, user, method, headers, jsonMode), outcome: "registered", identifier };
  };

  const submit = (kind: StandInFlowKind, url: URL, headers: IncomingHttpHeaders, raw: string): Answer => {
    counts.submits++;
    const jsonMode = isJSONRequest(headers);
    const flow = flows.get(url.searchParams.get("flow") ?? "");
    const body = parseBody(headers, raw);
    const method = body.get("method") ?? "";
    const report = (outcome: StandInOutcome, flowType: FlowType, identifier?: string) =>
      options.onSubmit?.({ flow: kind, flowType, method, outcome, identifier, headers });
    if (flow === undefined || flow.kind !== kind) {
      report("no_flow", "api");
      // flow.GetFlowID: a missing, malformed or nil id is a 400; a well-formed unknown one is not found.
      const id = url.searchParams.get("flow") ?? "";
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id) || /^[0-]+$/.test(id)) {
        return kratosError(
          400,
          "Bad Request",
          "The request was malformed or contained invalid parameters",
          "The flow query parameter is missing or malformed.",
        );
      }
      return kratosError(404, "Not Found", "Unable to locate the resource");
    }
    if (flow.type === "api") {
      // selfservice/flow/request.go EnsureCSRF: a native flow refuses an Origin and any cookie but Cloudflare's.
      const cookieNames = [...cookiesOf(headers).keys()].filter((name) => !/^(__cf|_cf|cf_)/.test(name));
      const refused = headers.origin !== undefined ? "Origin" : cookieNames.length > 0 ? "Cookie" : undefined;
      if (refused !== undefined && (method === "password" || method === "code")) {
        report("native_refused", flow.type);
        return flowError(flow, jsonMode, [nativeRefused(refused)]);
      }
    } else {
      const cookie = cookiesOf(headers).get(csrfCookie);
      const token = body.get("csrf_token") ?? (headers["x-csrf-token"] as string | undefined);
      if (cookie === undefined || token !== cookie) {
        report("csrf_violation", flow.type);
        return csrfViolation(jsonMode);
      }
    }
    const done = kind === "login" ? login(flow, body, headers, jsonMode) : registration(flow, body, headers, jsonMode);
    report(done.outcome, flow.type, done.identifier);
    return done.answer;
  };

  const route = (req: IncomingMessage, raw: string): Answer => {
    const url = new URL(req.url ?? "/", "http://standin");
    const path = url.pathname;
    const headers = req.headers;
    if (path === "/health/alive" || path === "/health/ready") return json(200, { status: "ok" });
    const match = /^\/self-service\/(login|registration)(\/api|\/browser|\/flows)?$/.exec(path);
    if (match === null) return kratosError(404, "Not Found", "The requested resource could not be found");
    const kind = match[1] as StandInFlowKind;
    const sub = match[2];
    if (sub === undefined) {
      if (req.method !== "POST") return kratosError(405, "Method Not Allowed", "The stand-in takes submits by POST only");
      return submit(kind, url, headers, raw);
    }
    if (req.method !== "GET") return kratosError(405, "Method Not Allowed", "Method not allowed");
    // nosurf sets the CSRF cookie on the routes it guards when the request has none (not on /api).
    const hasCsrf = cookiesOf(headers).has(csrfCookie);
    if (sub === "/api") return json(200, render(newFlow(kind, "api", url)));
    if (sub === "/browser") {
      // nosurf keeps a browser's token while its cookie is there, and sets one when it is not.
      const flow = newFlow(kind, "browser", url, cookiesOf(headers).get(csrfCookie));
      const cookie: Record<string, string[]> = hasCsrf ? {} : { "set-cookie": [csrfCookieLine(flow.csrf ?? "")] };
      if (isJSONRequest(headers)) return json(200, render(flow), cookie);
      const location = flowUrl(flow);
      return {
        status: 303,
        headers: { location, "content-type": "text/html; charset=utf-8", ...cookie },
        body: `<a href="${location}">See Other</a>.\n\n`,
      };
    }
    const cookie: Record<string, string[]> = hasCsrf ? {} : { "set-cookie": [csrfCookieLine(randomBytes(32).toString("base64"))] };
    const flow = flows.get(url.searchParams.get("id") ?? "");
    if (flow === undefined || flow.kind !== kind) {
      return {
        ...kratosError(404, "Not Found", "Unable to locate the resource"),
        headers: { "content-type": "application/json", ...cookie },
      };
    }
    // login/handler.go getLoginFlow: a browser flow is shown only with the browser's CSRF cookie.
    if (flow.type === "browser" && cookiesOf(headers).get(csrfCookie) !== flow.csrf) return csrfViolation(true);
    return json(200, render(flow), cookie);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    counts.requests++;
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let answer: Answer;
      try {
        answer = route(req, Buffer.concat(chunks).toString("utf8"));
      } catch (error) {
        answer = kratosError(500, "Internal Server Error", `stand-in: ${(error as Error).message}`);
      }
      res.writeHead(answer.status, { ...answer.headers, "content-length": Buffer.byteLength(answer.body) });
      res.end(answer.body);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(options.port ?? 0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the stand-in has no address");
  const url = `http://127.0.0.1:${address.port}`;
  base = (options.baseUrl ?? url).replace(/\/$/, "");
  // Kratos hashes base_url as it prints it: with the trailing slash of a bare origin.
  csrfCookie = `csrf_token_${createHash("sha256").update(new URL(base).href).digest("hex")}`;

  return {
    url,
    baseUrl: base,
    counts,
    seed,
    lastCode: (address: string) => codes.get(address),
    smsTotal: () => [...counts.smsSent.values()].reduce((a, b) => a + b, 0),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}
