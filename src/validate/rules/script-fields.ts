import type { Rule, RuleFinding } from "../rule.js";

export const scriptFields: Rule = {
  id: "coder/script-fields",
  title: "coder_script fields are valid",
  severity: "error",
  description: "terraform-provider-coder: agent_id, display_name and script are required; at least one of run_on_start, run_on_stop or cron; start_blocks_login only with run_on_start; timeout at least 1 when set.",
  why: "terraform-provider-coder rejects a `coder_script` that never runs or combines these fields; the template fails to plan.",
  fix: "Set one of `run_on_start`, `run_on_stop` or `cron`; use `start_blocks_login` only with `run_on_start`; give `timeout` at least 1 second or leave it out.",
  example: {
    bad: "resource \"coder_script\" \"setup\" {\n  agent_id           = coder_agent.main.id\n  display_name       = \"Setup\"\n  script             = \"./setup.sh\"\n  start_blocks_login = true\n}",
    good: "resource \"coder_script\" \"setup\" {\n  agent_id           = coder_agent.main.id\n  display_name       = \"Setup\"\n  script             = \"./setup.sh\"\n  run_on_start       = true\n  start_blocks_login = true\n}",
  },
  check({ plan, value }) {
    const out: RuleFinding[] = [];
    for (const r of plan.config.resources.filter((x) => x.type === "coder_script")) {
      const name = `coder_script.${r.name}`;
      const at = { file: r.file, line: r.pos.line };
      for (const req of ["agent_id", "display_name", "script"]) if (!r.attrs[req]) out.push({ ...at, message: `${name} has no ${req} (required)`, hint: `set ${req}` });
      // False unless it evaluates to true (an unknown value may be true: not reported).
      const isFalse = (a: string) => {
        if (!r.attrs[a]) return true;
        const v = value(r.attrs[a]);
        return !!v && v.isKnown && !v.isNull && v.type.kind === "bool" && !v.asBool();
      };
      if (isFalse("run_on_start") && isFalse("run_on_stop") && !r.attrs.cron) out.push({ ...at, message: `${name} never runs: none of run_on_start, run_on_stop or cron is set`, hint: "set run_on_start = true, run_on_stop = true or a cron schedule" });
      if (r.attrs.start_blocks_login && !isFalse("start_blocks_login") && isFalse("run_on_start")) out.push({ file: r.file, line: r.attrs.start_blocks_login.pos.line, message: `${name} sets start_blocks_login without run_on_start`, hint: "set run_on_start = true or remove start_blocks_login" });
      const t = value(r.attrs.timeout);
      if (t && t.isKnown && !t.isNull && t.type.kind === "number" && Number(t.asNumber().toString()) < 1) {
        out.push({ file: r.file, line: r.attrs.timeout!.pos.line, message: `${name} timeout = ${t.asNumber().toString()}`, hint: "use a timeout of at least 1 second, or remove it for no timeout" });
      }
    }
    return out;
  },
};
