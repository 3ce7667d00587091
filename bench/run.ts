/**
 * `npm run bench [suite...]`: figures printed as ratios against a baseline measured in the same
 * process. Every load is bounded in count and time and targets loopback only.
 */
import { benchBoundaries } from "./boundaries.js";
import { benchCluster } from "./cluster.js";
import { benchHub } from "./hub.js";
import { benchPresence } from "./presence.js";
import { benchProjection } from "./projection.js";
import { benchProtocol } from "./protocol.js";
import { benchStore } from "./store.js";
import { benchWeb } from "./web.js";
import { benchWorkload } from "./workload.js";

const suites: Record<string, () => unknown> = {
  protocol: benchProtocol,
  presence: benchPresence,
  projection: benchProjection,
  hub: benchHub,
  boundaries: benchBoundaries,
  store: benchStore,
  workload: benchWorkload,
  web: benchWeb,
  cluster: benchCluster,
};

export async function runBench(wanted: string[]): Promise<void> {
  for (const [name, run] of Object.entries(suites)) {
    if (wanted.length > 0 && !wanted.includes(name)) continue;
    console.log(`\n== ${name}`);
    await run();
  }
}

await runBench(process.argv.slice(2));
