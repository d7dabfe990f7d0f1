import { readFileSync } from "node:fs";

/** The file the probe (dev-entry-probe.ts) appends the entry's starts and exits to, one JSON line each. */
export const DEV_EVENTS_ENV = "KRATOS_HOOKS_DEV_EVENTS";

export type EntryEvent = { event: "start"; pid: number } | { event: "exit"; pid: number; code: number };

/** The events of the entry `dev --entry` runs, read as the probe appends them. */
export class EntryEvents {
  private offset = 0;
  private readonly events: EntryEvent[] = [];

  constructor(readonly file: string) {}

  /** Every event from the `from`-th on, with what the probe appended since the last look. */
  since(from: number): EntryEvent[] {
    let text = "";
    try {
      text = readFileSync(this.file, "utf8");
    } catch (error) {
      // The probe creates the file at the entry's first start: until then, nothing written yet.
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    // Whole lines only: the probe may be writing the next one.
    const end = text.lastIndexOf("\n") + 1;
    if (end > this.offset) {
      for (const line of text.slice(this.offset, end).split("\n")) if (line) this.events.push(JSON.parse(line) as EntryEvent);
      this.offset = end;
    }
    return this.events.slice(from);
  }

  /** The exit the entry ended with, when its latest event is one. */
  exited(): (EntryEvent & { event: "exit" }) | undefined {
    const last = this.since(0).at(-1);
    return last?.event === "exit" ? last : undefined;
  }
}
