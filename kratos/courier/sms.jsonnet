// SMS for the HTTP sink: recipient and text.
function(ctx) {
  to: ctx.recipient,
  body: ctx.body,
  template_type: ctx.template_type,
}
