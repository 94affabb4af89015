import { evaluationProblems } from "../../plan/plan.js";
import type { Rule } from "../rule.js";

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
    return evaluationProblems(plan).map((p) => ({ file: p.file, line: p.line, message: p.message, hint: "fix the expression; `provisioner eval` evaluates any expression in the template's scope" }));
  },
};
