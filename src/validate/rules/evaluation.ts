import { EvalError, formatDiagnostic } from "../../template/hcl/index.js";
import type { Rule, RuleFinding } from "../rule.js";

export const evaluation: Rule = {
  id: "coder/evaluation",
  title: "The template evaluates as Terraform's plan would",
  severity: "error",
  description: "Terraform evaluates every local value and resource argument when it plans; an expression that fails there (a templatefile() variable missing from its map, an unknown function, a type error) fails every workspace build.",
  why: "Terraform evaluates every argument when it plans; one that fails there fails every workspace build of the template.",
  fix: "Fix the expression as the message says; `provisioner eval DIR 'EXPR'` evaluates any expression in the template's scope, as `terraform console` does.",
  example: {
    bad: "user_data = templatefile(\"${path.module}/init.tftpl\", {})   # the file uses ${init_script}",
    good: "user_data = templatefile(\"${path.module}/init.tftpl\", {\n  init_script = coder_agent.main.init_script\n})",
  },
  check({ plan }) {
    const out: RuleFinding[] = [];
    const seen = new Set<string>();
    const report = (file: string, line: number, message: string) => {
      const key = `${file}:${line}:${message}`;
      if (seen.has(key)) return;
      seen.add(key);
      out.push({ file, line, message, hint: "fix the expression; `provisioner eval` evaluates any expression in the template's scope" });
    };
    for (const p of plan.problems) report(p.file, p.line, p.message);
    const attempt = (fn: () => unknown, file: string, line: number) => {
      try {
        fn();
      } catch (err) {
        if (!(err instanceof EvalError)) throw err;
        const d = err.diagnostic;
        report(d.file ?? file, d.range?.start.line ?? line, formatDiagnostic({ ...d, file: undefined, range: undefined }));
      }
    };
    const scope = plan.scope;
    for (const [name, attr] of Object.entries(plan.config.locals)) attempt(() => scope.local(name), attr.file, attr.pos.line);
    for (const r of plan.config.resources) {
      attempt(
        () => {
          const e = scope.expansion(r);
          if (e.kind === "single") for (const a of Object.values(r.attrs)) scope.evalAttr(a);
        },
        r.file,
        r.pos.line,
      );
    }
    return out;
  },
};
