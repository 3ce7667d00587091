/**
 * `npm run bench`: figures printed as ratios against a baseline measured in the same process.
 * Every load is bounded in count and time and targets loopback only.
 */
import { benchProtocol } from "./protocol.js";

const suites: Record<string, () => void | Promise<void>> = { protocol: benchProtocol };
const wanted = process.argv.slice(2);
for (const [name, run] of Object.entries(suites)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`\n== ${name}`);
  await run();
}
