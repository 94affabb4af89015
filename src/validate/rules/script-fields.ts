import { literalNumber } from "../../template/load.js";
import type { Rule } from "../rule.js";

export const scriptFields: Rule = {
  id: "coder/script-fields",
  title: "coder_script fields are valid",
  severity: "error",
  description: "terraform-provider-coder: agent_id, display_name and script are required; at least one of run_on_start, run_on_stop or cron; start_blocks_login only with run_on_start; timeout at least 1 when set.",
  check({ model }) {
    const out = [];
    for (const r of model.resources.filter((x) => x.type === "coder_script")) {
      const name = `coder_script.${r.name}`;
      const at = { file: r.file, line: r.line };
      for (const req of ["agent_id", "display_name", "script"]) {
        if (!r.attributes[req]) out.push({ ...at, message: `${name} has no ${req} (required)`, hint: `set ${req}` });
      }
      const isFalse = (a: string) => {
        const v = r.attributes[a];
        return !v || (v.syntax === "hcl" ? v.expr.kind === "literal" && v.expr.value === false : v.value === false);
      };
      if (isFalse("run_on_start") && isFalse("run_on_stop") && !r.attributes.cron) {
        out.push({ ...at, message: `${name} never runs: none of run_on_start, run_on_stop or cron is set`, hint: "set run_on_start = true, run_on_stop = true or a cron schedule" });
      }
      if (r.attributes.start_blocks_login && !isFalse("start_blocks_login") && isFalse("run_on_start")) {
        out.push({ file: r.file, line: r.attributes.start_blocks_login.line, message: `${name} sets start_blocks_login without run_on_start`, hint: "set run_on_start = true or remove start_blocks_login" });
      }
      const timeout = literalNumber(r.attributes.timeout);
      if (timeout !== undefined && timeout < 1) out.push({ file: r.file, line: r.attributes.timeout!.line, message: `${name} timeout = ${timeout}`, hint: "use a timeout of at least 1 second, or remove it for no timeout" });
    }
    return out;
  },
};
