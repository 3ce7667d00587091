/** Everything a hub is made of, in one object: adapters and services receive what they need from it. */
import type { Provisioning } from "./admin/provisioning.js";
import type { Announcer } from "./announce.js";
import type { Bus } from "./bus.js";
import type { HubConfig } from "./config/config.js";
import type { Clock, Store } from "./core/ports.js";
import type { VisitService } from "./core/service/visits.js";
import type { Ingest } from "./ingest/ingest.js";
import type { Logger } from "./log.js";
import type { Metrics } from "./metrics.js";
import type { Dispatcher } from "./notify/dispatcher.js";
import type { Notifier } from "./notify/notifier.js";
import type { PresenceService } from "./presence.js";
import type { KeyVault } from "./security/secrets.js";

export interface HubContext {
  config: HubConfig;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  bus: Bus;
  store: Store;
  vault: KeyVault;
  visits: VisitService;
  ingest: Ingest;
  announcer: Announcer;
  provisioning: Provisioning;
  startedAt: number;
  /** Health of optional parts (BLE, …): name → ok or the reason it is not. */
  health: Map<string, { ok: boolean; detail?: string }>;
  presence: PresenceService;
  notifier: Notifier;
  dispatcher: Dispatcher;
  /** Whether a device has a live connection now (MQTT). */
  connected: (deviceId: string) => boolean;
}
