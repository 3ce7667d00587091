/** The demo site: six engineers with badges, a kiosk and a gateway. Credentials kept in the data dir (0600). */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DateTime } from "luxon";
import type { Hub } from "../app.js";
import { defaultSite, type Engineer, type Site } from "../core/model.js";

export const DEMO_SITE: Site = defaultSite({
  id: "DEMO-SY",
  name: "Shenyang demo plant",
  timeZone: "Asia/Shanghai",
  requiredPpe: ["helmet", "safety_shoes"],
});

const NAMES: Array<[string, string]> = [
  ["Zhang Wei", "Shengda Service"],
  ["Li Na", "Shengda Service"],
  ["Wang Fang", "Beifang Tech"],
  ["Liu Yang", "Beifang Tech"],
  ["Chen Jie", "Shengda Service"],
  ["Zhao Lei", "Liaoning Power"],
];

export interface DemoCredentials {
  kiosk: { id: string; password: string };
  gateway: { id: string; password: string };
  badges: Array<{
    id: string;
    engineerId: string;
    badgeNo: number;
    tag: string;
    key: string;
    password: string;
  }>;
}

export async function seedDemo(
  hub: Hub,
): Promise<{ site: Site; engineers: Engineer[]; credentials: DemoCredentials }> {
  const { store, provisioning, clock } = hub.ctx;
  await store.putSite(DEMO_SITE);
  const today = DateTime.fromMillis(clock.now(), { zone: DEMO_SITE.timeZone });
  const engineers: Engineer[] = NAMES.map(([name, company], i) => ({
    id: `DEMO-E${i + 1}`,
    name,
    company,
    certificates: [
      {
        kind: "safety_training",
        number: `ST-${2024 + i}-${1000 + i}`,
        // Engineer 6's certificate ran out yesterday: the demo's unqualified check-in.
        validUntil:
          (i === 5 ? today.minus({ days: 1 }) : today.plus({ years: 1 })).toISODate() ?? "2099-12-31",
      },
    ],
  }));
  for (const e of engineers) await store.putEngineer(e);

  const file = join(hub.ctx.config.dataDir, "demo-devices.json");
  if (existsSync(file)) {
    const creds = JSON.parse(readFileSync(file, "utf8")) as DemoCredentials;
    if ((await store.getDevice(creds.kiosk.id))?.revokedAt === null)
      return { site: DEMO_SITE, engineers, credentials: creds };
  }
  const fresh = async (id: string, req: Parameters<typeof provisioning.provision>[0]) => {
    const existing = await store.getDevice(id);
    if (existing && existing.revokedAt === null) await provisioning.revoke(id);
    return provisioning.provision(req);
  };
  const kiosk = await fresh("demo-kiosk", { id: "demo-kiosk", kind: "kiosk", siteId: DEMO_SITE.id });
  const gateway = await fresh("demo-gw", { id: "demo-gw", kind: "gateway", siteId: DEMO_SITE.id });
  const badges: DemoCredentials["badges"] = [];
  for (const [i, e] of engineers.entries()) {
    const id = `demo-badge-${i + 1}`;
    const tag = `DE00${(0xa0 + i).toString(16).toUpperCase()}0000`;
    const p = await fresh(id, {
      id,
      kind: "badge",
      engineerId: e.id,
      rfidTag: tag,
      badgeNo: 0xde_00_00_01 + i,
    });
    badges.push({
      id,
      engineerId: e.id,
      badgeNo: 0xde_00_00_01 + i,
      tag,
      key: p.key ?? "",
      password: p.password,
    });
  }
  const credentials: DemoCredentials = {
    kiosk: { id: kiosk.device.id, password: kiosk.password },
    gateway: { id: gateway.device.id, password: gateway.password },
    badges,
  };
  writeFileSync(file, JSON.stringify(credentials, null, 2), { mode: 0o600 });
  return { site: DEMO_SITE, engineers, credentials };
}
