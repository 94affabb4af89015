import { workspaceContext } from "../../src/plan/context.js";
import { planTemplate } from "../../src/plan/plan.js";
import { loadModule } from "../../src/template/load.js";

/** Renders every instance's user data with fixed, concrete values (init scripts name their agent). */
export function renderAll(dir: string): Record<string, string | undefined> {
  const ctx = workspaceContext({
    owner: { name: "alice", email: "alice@example.com", id: "u-1" },
    accessUrl: "http://127.0.0.1:1/",
    agent: (name) => ({ initScript: `#!/bin/sh\necho init ${name}\n`, token: `token-${name}`, id: `id-${name}` }),
  });
  const plan = planTemplate(loadModule(dir), ctx);
  return Object.fromEntries(plan.instances.map((i) => [i.address, i.boot.kind === "user-data" ? i.boot.text : undefined]));
}
