import { formatJudgedKratos } from "./kratos-version.js";
import type { TryReport } from "./try.js";

/** A value in a change line; a key the identity lacks reads `(absent)`. */
function show(value: unknown): string {
  return value === undefined ? "(absent)" : JSON.stringify(value);
}

const LABEL = { continue: "CONTINUE", save: "SAVE", stop: "STOP", fail: "FAIL" } as const;

/** The report as a person reads it. */
export function formatTry(report: TryReport): string {
  const { verdict } = report;
  const lines = [
    `hook      ${report.hook}`,
    `ctx       ${report.ctx}`,
    `template  ${report.template.file} (wired at ${report.template.wiredAt})`,
    `handler   ${report.handler}`,
    `kratos    ${formatJudgedKratos(report.kratosVersion)}`,
  ];
  if (report.answer !== null) {
    const body = report.answer.body.length > 240 ? `${report.answer.body.slice(0, 240)}…` : report.answer.body;
    lines.push(`answer    ${report.answer.status}${body === "" ? " (empty body)" : ` ${body}`}`);
  } else if (report.request === null) {
    lines.push("answer    (no request sent)");
  }
  lines.push("", `${LABEL[verdict.kind]}  ${verdict.headline}`);
  const width = Math.max(0, ...(verdict.changes ?? []).map((c) => c.path.length));
  for (const change of verdict.changes ?? []) {
    lines.push(`      ${change.path.padEnd(width)}  ${show(change.before)} → ${show(change.after)}`);
  }
  if (verdict.kind === "stop") {
    for (const m of verdict.messages ?? []) {
      lines.push(`      ${m.node ?? "(global)"}  [${m.id}, ${m.type}] ${m.text}`);
    }
  }
  lines.push(`      why: ${verdict.reason}`);
  for (const note of verdict.notes) lines.push(`      note: ${note}`);
  return `${lines.join("\n")}\n`;
}
