// Email for the HTTP sink: recipient, subject and plain-text body.
function(ctx) {
  to: ctx.recipient,
  subject: ctx.subject,
  body: ctx.body,
  template_type: ctx.template_type,
}
