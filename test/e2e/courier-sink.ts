// The courier sink ships with the CLI (`kratos-hooks dev` prints what it receives); the suite reuses it.
export { type CapturedCtx, type CourierMessage, CourierSink, codeIn } from "../../src/cli/courier-sink.js";
