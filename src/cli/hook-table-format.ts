import type { HookRow, TableHook } from "./hook-table.js";

// `doctor --hooks` as text: one line per (flow, phase, method), its hooks in the order Kratos runs
// them, each said as a reader of kratos.yml would look for it.

function hookText(hook: TableHook): string {
  const name =
    hook.hook !== "web_hook"
      ? hook.hook
      : hook.route !== null && hook.route !== undefined
        ? `/hooks/${hook.route}`
        : `web_hook ${hook.url ?? "(no url)"} (not kratos-hooks)`;
  const notes = [
    hook.internal === true ? "added by Kratos" : undefined,
    hook.async === true ? "in the background" : undefined,
    hook.runs ? undefined : `skipped: ${hook.why ?? "not run here"}`,
  ].filter((n) => n !== undefined);
  return notes.length === 0 ? name : `${name} (${notes.join("; ")})`;
}

function rowHooks(row: HookRow): string {
  if (row.hooks.length === 0) return "(none)";
  const steps = ["pre-persist", "post-persist"] as const;
  if (!row.hooks.some((h) => h.step !== undefined)) return row.hooks.map(hookText).join(" → ");
  return steps
    .map((step) => {
      const hooks = row.hooks.filter((h) => h.step === step);
      return `${step === "pre-persist" ? "before saving" : "after saving"}: ${hooks.length === 0 ? "(none)" : hooks.map(hookText).join(" → ")}`;
    })
    .join("  |  ");
}

/** The table as text, one row per line, aligned. */
export function formatHookTable(rows: readonly HookRow[], release: string): string {
  const label = (row: HookRow) => `${row.flow} ${row.phase}${row.method === null ? "" : ` ${row.method}`}`;
  const width = Math.max(...rows.map((row) => label(row).length));
  const lines = rows.map((row) => `  ${label(row).padEnd(width)}  ${rowHooks(row)}`);
  return `hooks Kratos ${release} runs, in order (flow, phase, method):\n${lines.join("\n")}\n`;
}
