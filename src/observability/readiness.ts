/** Something Keyward needs in order to serve: a store or a cache. */
export interface Dependency {
  readonly name: string;
  /** Resolves when the dependency answers; rejects otherwise. */
  ping(): Promise<void>;
}

/** The state of every dependency at one moment. */
export interface ReadinessReport {
  readonly ready: boolean;
  readonly dependencies: Record<string, "ok" | "unavailable">;
}

/** Hears how each dependency did: whether it answered, and how long it took. */
export type PingObserver = (name: string, up: boolean, seconds: number) => void;

/** Asks every dependency, each bounded by `timeoutMs`, and reports whether all answered. */
export async function checkReadiness(
  dependencies: readonly Dependency[],
  timeoutMs: number,
  observe: PingObserver = () => {},
): Promise<ReadinessReport> {
  const results = await Promise.all(
    dependencies.map(async (dependency) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("timed out")), timeoutMs);
      });
      const started = performance.now();
      let up = false;
      try {
        await Promise.race([dependency.ping(), timeout]);
        up = true;
        return [dependency.name, "ok"] as const;
      } catch {
        return [dependency.name, "unavailable"] as const;
      } finally {
        clearTimeout(timer);
        observe(dependency.name, up, (performance.now() - started) / 1000);
      }
    }),
  );
  return {
    ready: results.every(([, state]) => state === "ok"),
    dependencies: Object.fromEntries(results),
  };
}
