// Body of the login-before web_hook (kratos-hooks route /hooks/login-before): the parts of Kratos's ctx
// that kratos-hooks reads. request_cookies (session and CSRF cookies) are left out on purpose.
// Kratos disables import, so every template stands alone.
function(ctx) {
  flow: {
    id: ctx.flow.id,
    type: ctx.flow.type,
    [if std.objectHas(ctx.flow, 'transient_payload') then 'transient_payload']: ctx.flow.transient_payload,
    // Kratos v25.4+: the schema the client asked for with ?identity_schema=.
    [if std.objectHas(ctx.flow, 'identity_schema') then 'identity_schema']: ctx.flow.identity_schema,
  },
  request_headers: ctx.request_headers,
  request_method: ctx.request_method,
  request_url: ctx.request_url,
}
