/** Screens whose data the live stream does not carry: fetched again on an interval while open. */
import { useEffect, useRef, useState } from "preact/hooks";
import { useApp } from "../store.js";

/**
 * Calls `load` now, every `ms` while the component is mounted, again after a reconnect (a new
 * generation) and whenever `deps` change. A slow answer never overtakes a newer one.
 */
export function usePoll(load: () => Promise<void>, ms: number, deps: readonly unknown[]): () => void {
  const generation = useApp((s) => s.generation);
  const loadRef = useRef(load);
  loadRef.current = load;
  const [n, setN] = useState(0);
  useEffect(() => {
    let running = false;
    const run = () => {
      if (running) return;
      running = true;
      void loadRef.current().finally(() => {
        running = false;
      });
    };
    run();
    const timer = setInterval(run, ms);
    return () => clearInterval(timer);
  }, [ms, generation, n, ...deps]);
  return () => setN((x) => x + 1);
}

/** The time now, renewed every `ms` (relative times: "12 seconds ago"). */
export function useNow(ms: number): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}
