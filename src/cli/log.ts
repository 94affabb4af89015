/** Structured logging for long-running commands: one JSON object per line, or readable text, on stderr. */
export function createLogger(format: "text" | "json", component: string): (event: Record<string, unknown>) => void {
  return (event) => {
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
