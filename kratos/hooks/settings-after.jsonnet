// Body of the settings-after web_hook (kratos-hooks route /hooks/settings-after): the parts of Kratos's ctx
// that kratos-hooks reads. request_cookies (session and CSRF cookies) are left out on purpose, and so is
// everything in the session but how and when its holder authenticated (never its token or devices).
// Kratos disables import, so every template stands alone.
function(ctx) {
  flow: {
    id: ctx.flow.id,
    type: ctx.flow.type,
    [if std.objectHas(ctx.flow, 'transient_payload') then 'transient_payload']: ctx.flow.transient_payload,
    // Kratos v25.4+: the schema the client asked for with ?identity_schema=.
    [if std.objectHas(ctx.flow, 'identity_schema') then 'identity_schema']: ctx.flow.identity_schema,
  },
  identity: {
    // The stored identity's id: what a policy keys its own records on.
    id: ctx.identity.id,
    schema_id: ctx.identity.schema_id,
    traits: ctx.identity.traits,
    metadata_public: ctx.identity.metadata_public,
    // Kratos v25.4+, when the identity has one: a policy sees it before it changes it.
    [if std.objectHas(ctx.identity, 'external_id') then 'external_id']: ctx.identity.external_id,
  },
  // Kratos v26.2+ (settings before saving; v1.3.1 never sends a session).
  [if std.objectHas(ctx, 'session') && ctx.session != null then 'session']: {
    id: ctx.session.id,
    authenticator_assurance_level: ctx.session.authenticator_assurance_level,
    authenticated_at: ctx.session.authenticated_at,
    local methods = if std.objectHas(ctx.session, 'authentication_methods') && ctx.session.authentication_methods != null
    then ctx.session.authentication_methods
    else [],
    authentication_methods: [{ method: m.method, aal: m.aal, completed_at: m.completed_at } for m in methods],
  },
  request_headers: ctx.request_headers,
  request_method: ctx.request_method,
  request_url: ctx.request_url,
}
