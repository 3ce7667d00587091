/** A BlueZ stand-in on a private D-Bus: what the demo and the tests use when there is no radio. */
import { dbusDaemonAvailable, PrivateBus } from "./private-bus.js";
import { BluezStandIn, type StandInOptions } from "./stand-in.js";

export type { VirtualPeripheral } from "./stand-in.js";
export type { StandInOptions };
export { BluezStandIn, dbusDaemonAvailable, PrivateBus };

export interface VirtualBluez {
  bus: PrivateBus;
  bluez: BluezStandIn;
  stop(): Promise<void>;
}

export async function startVirtualBluez(opts: StandInOptions = {}): Promise<VirtualBluez> {
  const bus = await PrivateBus.start();
  try {
    const bluez = await BluezStandIn.start(bus.address, opts);
    return {
      bus,
      bluez,
      async stop() {
        await bluez.stop();
        await bus.stop();
      },
    };
  } catch (e) {
    await bus.stop();
    throw e;
  }
}
