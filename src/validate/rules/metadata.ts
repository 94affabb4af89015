import type { Attr } from "../../template/config.js";
import { convert, STRING } from "../../template/hcl/index.js";
import type { Rule, RuleFinding } from "../rule.js";

export const metadata: Rule = {
  id: "coder/metadata",
  title: "Agent metadata items have unique keys and a timeout below their interval",
  severity: "warning",
  description: "coder_agent `metadata` blocks: two items with one `key`, an item without `timeout`, or an `interval` shorter than its `timeout`.",
  why: "Metadata items are keyed: a duplicate key makes one item overwrite the other in the dashboard, and the coder provider rejects it. Each script runs every `interval` seconds and is cut off after `timeout`; with no timeout a hung script (a network call, a full disk) holds its slot, and with a timeout longer than the interval the next run is due while the last may still be running, so values lag or pile up.",
  fix: "Give every item its own key, and set `timeout` (seconds) to at most its `interval` — e.g. `interval = 10`, `timeout = 1`.",
  example: {
    bad: `metadata {
  key      = "cpu"
  script   = "coder stat cpu"
  interval = 1
  timeout  = 5
}`,
    good: `metadata {
  key      = "cpu"
  script   = "coder stat cpu"
  interval = 10
  timeout  = 1
}`,
  },
  check({ plan, value }) {
    const out: RuleFinding[] = [];
    const num = (a: Attr | undefined): number | undefined => {
      const v = value(a);
      if (!v || !v.isKnown || v.isNull) return undefined;
      const n = Number(convert(v, STRING).asString());
      return Number.isFinite(n) ? n : undefined;
    };
    for (const r of plan.config.resources.filter((x) => x.mode === "managed" && x.type === "coder_agent")) {
      const keys = new Map<string, number>();
      for (const b of r.blocks.filter((x) => x.type === "metadata")) {
        const at = { file: b.file, line: b.pos.line };
        const k = value(b.attrs.key);
        const key = k && k.isKnown && !k.isNull ? convert(k, STRING).asString() : undefined;
        if (key !== undefined) {
          const prior = keys.get(key);
          if (prior !== undefined) out.push({ file: b.file, line: b.attrs.key!.pos.line, severity: "error", message: `${r.address} has two metadata items with key "${key}" (the first at line ${prior}): one overwrites the other, and the coder provider refuses duplicate keys`, hint: "give each metadata item its own key" });
          else keys.set(key, b.attrs.key!.pos.line);
        }
        const interval = num(b.attrs.interval);
        const timeout = num(b.attrs.timeout);
        const label = `${r.address} metadata "${key ?? "?"}"`;
        if (!b.attrs.timeout) out.push({ ...at, message: `${label} has no timeout: a script that hangs keeps its slot until the agent gives up on it`, hint: `set timeout = 1 (seconds; at most the interval${interval ? `, ${interval}` : ""})` });
        else if (interval !== undefined && timeout !== undefined && interval > 0 && interval < timeout) {
          out.push({ file: b.file, line: b.attrs.timeout.pos.line, message: `${label} has interval = ${interval} below timeout = ${timeout}: the next run is due while the last may still be running`, hint: `use a timeout of at most ${interval} second${interval === 1 ? "" : "s"}, or a longer interval` });
        }
      }
    }
    return out;
  },
};
