/** A BlueZ stand-in on a private D-Bus: what the demo and the tests use when there is no radio. */

import type { HostOptions } from "./host.js";
import { dbusDaemonAvailable, PrivateBus } from "./private-bus.js";
import { BluezStandIn, VirtualHost } from "./stand-in.js";

export type { HostOptions };
export { BluezStandIn, dbusDaemonAvailable, PrivateBus, VirtualHost };

export interface VirtualBluez {
  bus: PrivateBus;
  bluez: BluezStandIn;
  stop(): Promise<void>;
}

export async function startVirtualBluez(opts: HostOptions = {}): Promise<VirtualBluez> {
  const bus = await PrivateBus.start();
  try {
    const bluez = await BluezStandIn.start(bus.address, opts);
    return {
      bus,
      bluez,
      async stop() {
        await bluez.stopAll();
        await bus.stop();
      },
    };
  } catch (e) {
    await bus.stop();
    throw e;
  }
}
