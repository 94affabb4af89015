/** Values printed as `terraform console` prints them (Terraform's repl.FormatValue). */
import { friendlyName } from "./types.js";
import { goQuote, type Value } from "./value.js";

export function formatConsole(v: Value, indent = 0): string {
  if (!v.isKnown) return "(known after apply)";
  if (v.sensitive) return "(sensitive value)";
  const t = v.type;
  if (v.isNull) {
    switch (t.kind) {
      case "dynamic":
        return "null";
      case "string":
        return "tostring(null)";
      case "number":
        return "tonumber(null)";
      case "bool":
        return "tobool(null)";
      case "list":
        return `tolist(null) /* of ${friendlyName(t.elem)} */`;
      case "set":
        return `toset(null) /* of ${friendlyName(t.elem)} */`;
      case "map":
        return `tomap(null) /* of ${friendlyName(t.elem)} */`;
      default:
        return `null /* ${friendlyName(t)} */`;
    }
  }
  switch (t.kind) {
    case "string":
      return multiline(v.asString(), indent) ?? goQuote(v.asString());
    case "number":
      return v.asNumber().toString();
    case "bool":
      return v.asBool() ? "true" : "false";
    case "object":
      return mapping(v, indent);
    case "tuple":
      return sequence(v, indent);
    case "list":
      return `tolist(${sequence(v, indent)})`;
    case "set":
      return `toset(${sequence(v, indent)})`;
    case "map":
      return `tomap(${mapping(v, indent)})`;
    default:
      return "null";
  }
}

function multiline(s: string, indent: number): string | undefined {
  const lines = s.split("\n");
  if (lines.length < 2) return undefined;
  const op = indent > 0 ? "<<-" : "<<";
  let delim = "EOT";
  while (lines.some((l) => l.trim() === delim)) delim += "_";
  const pad = " ".repeat(indent);
  return `${op}${delim}${lines.map((l) => `\n${pad}${l}`).join("")}\n${pad}${delim}`;
}

function mapping(v: Value, indent: number): string {
  const inner = indent + 2;
  const items = [...v.asMap()];
  let out = "{";
  for (const [k, e] of items) out += `\n${" ".repeat(inner)}${goQuote(k)} = ${formatConsole(e, inner)}`;
  if (items.length > 0) out += `\n${" ".repeat(indent)}`;
  return out + "}";
}

function sequence(v: Value, indent: number): string {
  const inner = indent + 2;
  const items = v.asArray();
  let out = "[";
  for (const e of items) out += `\n${" ".repeat(inner)}${formatConsole(e, inner)},`;
  if (items.length > 0) out += `\n${" ".repeat(indent)}`;
  return out + "]";
}
