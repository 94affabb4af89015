/**
 * Wraps `fn` so that calls never overlap: a call while it runs makes it run once more afterwards
 * (however many calls came in), so the last state is always seen. For re-queries woken by pubsub.
 */
export function serialized(fn: () => Promise<void>): { run: () => Promise<void> } {
  let running = false;
  let again = false;
  const run = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await fn();
      } while (again);
    } finally {
      running = false;
    }
  };
  return { run };
}
