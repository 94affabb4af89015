/**
 * What a template declares for each agent besides its start: coder_agent's env and startup/shutdown
 * scripts, and the coder_script, coder_app, coder_env and coder_devcontainer resources whose agent_id
 * is that agent's — evaluated from the plan, with the coder provider's attribute names.
 */
import type { Attr, ResourceConfig } from "../template/config.js";
import { convert, EvalError, references, STRING, type Value } from "../template/hcl/index.js";
import type { Plan } from "./plan.js";

export interface AgentScript {
  display_name: string;
  script: string;
  icon: string;
  run_on_start: boolean;
  run_on_stop: boolean;
  cron: string;
  start_blocks_login: boolean;
  timeout: number;
  log_path: string;
}

export interface AgentApp {
  slug: string;
  display_name?: string;
  url?: string;
  command?: string;
  icon: string;
  subdomain: boolean;
  share: "owner" | "authenticated" | "public";
  external: boolean;
  open_in: "slim-window" | "tab";
  hidden: boolean;
  order?: number;
  healthcheck?: { url: string; interval: number; threshold: number };
}

export interface AgentDevcontainer {
  name: string;
  workspace_folder: string;
  config_path: string;
}

export interface AgentConfig {
  env: Record<string, string>;
  startup_script?: string;
  startup_script_behavior: "blocking" | "non-blocking";
  shutdown_script?: string;
  apps: AgentApp[];
  scripts: AgentScript[];
  devcontainers: AgentDevcontainer[];
  /** What could not be evaluated (unknown before apply, or an error), by resource. */
  skipped: string[];
}

/** The coder_agent a resource belongs to (through its agent_id reference). */
function agentOf(r: ResourceConfig): string | undefined {
  const a = r.attrs.agent_id;
  const ref = a && references(a.expr).find((x) => x.parts[0] === "coder_agent");
  return ref ? String(ref.parts[1]) : undefined;
}

export function agentConfig(plan: Plan, agent: string): AgentConfig {
  const out: AgentConfig = { env: {}, startup_script_behavior: "non-blocking", apps: [], scripts: [], devcontainers: [], skipped: [] };
  const scope = plan.scope;
  const value = (r: ResourceConfig, a: Attr | undefined): Value | undefined => {
    if (!a) return undefined;
    try {
      const v = scope.evalAttr(a, scope.instanceScope(scope.expansion(r).kind === "count" ? { countIndex: 0 } : {}));
      if (!v.isWhollyKnown()) {
        out.skipped.push(`${r.address}.${a.name}: ${v.unknownReason ?? "unknown"} is known only after apply`);
        return undefined;
      }
      return v.isNull ? undefined : v;
    } catch (err) {
      if (!(err instanceof EvalError)) throw err;
      out.skipped.push(`${r.address}.${a.name}: ${err.message}`);
      return undefined;
    }
  };
  const str = (r: ResourceConfig, name: string) => {
    const v = value(r, r.attrs[name]);
    return v ? convert(v, STRING).asString() : undefined;
  };
  const bool = (r: ResourceConfig, name: string, def = false) => {
    const v = value(r, r.attrs[name]);
    return v ? convert(v, { kind: "bool" }).asBool() : def;
  };
  const num = (r: ResourceConfig, name: string) => {
    const v = value(r, r.attrs[name]);
    return v ? Number(convert(v, { kind: "number" }).asNumber().toString()) : undefined;
  };
  // Resources that a stopped workspace does not create (count = 0) do not apply.
  const present = (r: ResourceConfig) => {
    try {
      const e = scope.expansion(r);
      return e.kind !== "count" || e.count > 0;
    } catch {
      return false;
    }
  };
  const agentResource = plan.config.resources.find((r) => r.type === "coder_agent" && r.name === agent);
  if (agentResource) {
    const env = value(agentResource, agentResource.attrs.env);
    if (env && env.raw instanceof Map) for (const [k, v] of env.asMap()) out.env[k] = convert(v, STRING).asString();
    out.startup_script = str(agentResource, "startup_script");
    out.shutdown_script = str(agentResource, "shutdown_script");
    const behavior = str(agentResource, "startup_script_behavior");
    if (behavior === "blocking" || bool(agentResource, "login_before_ready", true) === false) out.startup_script_behavior = "blocking";
  }
  for (const r of plan.config.resources.filter((x) => x.mode === "managed" && agentOf(x) === agent && present(x))) {
    switch (r.type) {
      case "coder_env": {
        const name = str(r, "name");
        const v = str(r, "value");
        if (name !== undefined && v !== undefined) out.env[name] = v;
        break;
      }
      case "coder_script": {
        const script = str(r, "script");
        const display = str(r, "display_name");
        if (script === undefined || display === undefined) break;
        out.scripts.push({
          display_name: display,
          script,
          icon: str(r, "icon") ?? "",
          run_on_start: bool(r, "run_on_start"),
          run_on_stop: bool(r, "run_on_stop"),
          cron: str(r, "cron") ?? "",
          start_blocks_login: bool(r, "start_blocks_login"),
          timeout: num(r, "timeout") ?? 0,
          log_path: str(r, "log_path") ?? "",
        });
        break;
      }
      case "coder_app": {
        const slug = str(r, "slug") ?? r.name;
        const hc = r.blocks.find((b) => b.type === "healthcheck");
        const hcUrl = hc?.attrs.url ? value(r, hc.attrs.url) : undefined;
        const share = str(r, "share");
        const openIn = str(r, "open_in");
        out.apps.push({
          slug,
          display_name: str(r, "display_name") ?? str(r, "name"),
          url: str(r, "url"),
          command: str(r, "command"),
          icon: str(r, "icon") ?? "",
          subdomain: bool(r, "subdomain"),
          share: share === "authenticated" || share === "public" ? share : "owner",
          external: bool(r, "external"),
          open_in: openIn === "tab" ? "tab" : "slim-window",
          hidden: bool(r, "hidden"),
          order: num(r, "order"),
          healthcheck:
            hc && hcUrl
              ? { url: convert(hcUrl, STRING).asString(), interval: Number(value(r, hc.attrs.interval)?.asNumber().toString() ?? 5), threshold: Number(value(r, hc.attrs.threshold)?.asNumber().toString() ?? 6) }
              : undefined,
        });
        break;
      }
      case "coder_devcontainer": {
        const folder = str(r, "workspace_folder");
        if (folder) out.devcontainers.push({ name: r.name, workspace_folder: folder, config_path: str(r, "config_path") ?? "" });
        break;
      }
    }
  }
  return out;
}
