import type { ManifestApp } from "../sdk/agent.js";
import type { AppHealth } from "../sdk/apps.js";

/**
 * Coder's app health checks (agent/apphealth): every `interval` seconds a GET of the app's health
 * check URL; an answer below 500 is healthy, `threshold` failures in a row are unhealthy. Changes are
 * reported together, at most once per check round.
 */
export class AppHealthChecker {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly health = new Map<string, AppHealth>();
  private readonly failures = new Map<string, number>();
  private pending: Record<string, AppHealth> = {};
  private flushing?: NodeJS.Timeout;

  constructor(
    private readonly apps: ManifestApp[],
    private readonly report: (healths: Record<string, AppHealth>) => Promise<void>,
    private readonly log: (event: Record<string, unknown>) => void,
  ) {}

  start(): void {
    for (const app of this.apps) {
      const hc = app.healthcheck;
      if (!hc) continue;
      this.health.set(app.id, "initializing");
      const check = () => void this.check(app.id, hc.url, hc.threshold, hc.interval * 1000);
      check();
      this.timers.push(setInterval(check, hc.interval * 1000));
    }
  }

  stop(): void {
    this.timers.splice(0).forEach(clearInterval);
    if (this.flushing) clearTimeout(this.flushing);
  }

  private async check(appId: string, url: string, threshold: number, timeoutMs: number): Promise<void> {
    let ok = false;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(Math.min(timeoutMs, 10_000)), redirect: "manual" });
      await res.body?.cancel();
      ok = res.status < 500;
    } catch {
      ok = false;
    }
    const failures = ok ? 0 : (this.failures.get(appId) ?? 0) + 1;
    this.failures.set(appId, failures);
    const next: AppHealth = ok ? "healthy" : failures >= threshold ? "unhealthy" : (this.health.get(appId) ?? "initializing");
    if (next === this.health.get(appId)) return;
    this.health.set(appId, next);
    this.pending[appId] = next;
    this.flushing ??= setTimeout(() => {
      this.flushing = undefined;
      const healths = this.pending;
      this.pending = {};
      this.report(healths).catch((err: Error) => this.log({ level: "warn", msg: "reporting app health failed", error: err.message }));
    }, 50);
  }
}
