/** Structured logging for long-running commands: one JSON object per line, or readable text, on stderr. Debug events only with PROVISIONER_DEBUG=1. */
export function createLogger(format: "text" | "json", component: string, verbose = process.env.PROVISIONER_DEBUG === "1"): (event: Record<string, unknown>) => void {
  return (event) => {
    // Per-request events are debug: on the hot path a line per request costs more than the request.
    if (event.level === "debug" && !verbose) return;
    const time = new Date().toISOString();
    if (format === "json") {
      process.stderr.write(JSON.stringify({ time, component, ...event }) + "\n");
      return;
    }
    const { level = "info", msg = "", ...rest } = event;
    const fields = Object.entries(rest)
      .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
      .join(" ");
    process.stderr.write(`${time} ${String(level).toUpperCase().padEnd(5)} ${component}: ${String(msg)}${fields ? " " + fields : ""}\n`);
  };
}
