import type { TemplateModel } from "../../src/template/model.js";
import { renderUserData, templateScope } from "../../src/template/render.js";

/** Renders every instance's user data with fixed, concrete values (init scripts name their agent). */
export function renderAll(model: TemplateModel): Record<string, string | undefined> {
  const scope = templateScope(model, {
    workspace: { name: "ws", start_count: 1, transition: "start", id: "w-1", access_url: "http://127.0.0.1:1/" },
    owner: { name: "alice", email: "alice@example.com", id: "u-1" },
    agent: (name) => ({ init_script: `#!/bin/sh\necho init ${name}\n`, token: `token-${name}`, id: `id-${name}` }),
    attribute: (r, attr) => `${r.type}.${r.name}.${attr}`,
  });
  return Object.fromEntries(model.instances.map((i) => [`${i.resource.type}.${i.resource.name}`, renderUserData(i, scope)]));
}
