import type { TestProject } from "vitest/node";
import { startEchoUpstream } from "./echo-upstream.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The echo upstream the Worker's gateway forwards to in the workerd tests (test/worker/echo-upstream.ts). */
    echoUpstream: string;
  }
}

/** A real upstream on loopback for the gateway tests that run inside workerd, which cannot listen itself. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const upstream = await startEchoUpstream();
  project.provide("echoUpstream", upstream.url);
  return () => upstream.close();
}
