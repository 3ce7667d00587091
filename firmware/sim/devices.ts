/**
 * The devices of a world, running: per scenario's place a kiosk and a badge (ScenarioDriver) and the
 * radio the badges reach the hub by (BLE through the BlueZ stand-in, or a gateway over MQTT). A round
 * that is given them plays its visits on them; the demo starts them once and keeps them across
 * rounds, as a site keeps its kiosk and an engineer their badge. (johnny-five never lets go of a
 * board or a component, so devices booted every round would pile up in a long-running process.)
 */
import type { BoardKind } from "../../hardware/virtual/boards.js";
import { GatewayRadio } from "../badge/radio.js";
import type { HubApi } from "./api.js";
import { ScenarioDriver } from "./driver.js";
import { bleSimRadio, gatewaySimRadio, type PeripheralSource, type SimRadio } from "./radios.js";
import type { SimWorld } from "./run.js";
import { SITE_PPE, type SimScenario } from "./scenarios.js";

export interface DevicesOptions {
  mqttUrl: string;
  /** The engineer's app reports through it. */
  api: HubApi;
  stateDir: string;
  /** Run the first kiosk on the emulated Uno with the real StandardFirmata. */
  emulate?: boolean;
  /** Badges advertise over BLE through this BlueZ stand-in (else: a gateway relays them over MQTT). */
  bluez?: PeripheralSource;
}

export class SimDevices {
  private stopped = false;

  private constructor(
    /** One per scenario, in the scenarios' order. */
    readonly drivers: ScenarioDriver[],
    private readonly radio: SimRadio,
  ) {}

  /** Boots the devices of the world's places for `scenarios` (the place of scenario i is slot i). */
  static async start(world: SimWorld, scenarios: SimScenario[], o: DevicesOptions): Promise<SimDevices> {
    const slots = scenarios.map((s, i) => {
      const slot = world.slots[i];
      if (!slot) throw new Error(`the world has no place for scenario ${s.name}`);
      return { slot, ppe: s.ppe ?? SITE_PPE };
    });
    let radio: SimRadio;
    if (o.bluez) radio = bleSimRadio(o.bluez);
    else {
      const gw = new GatewayRadio({
        url: o.mqttUrl,
        gatewayId: world.gateway.id,
        password: world.gateway.password,
      });
      await gw.start();
      radio = gatewaySimRadio(gw);
    }
    const drivers = slots.map(
      ({ slot, ppe }, i) =>
        new ScenarioDriver(
          { badge: slot.badge, kiosk: slot.kiosk, ppe },
          {
            mqttUrl: o.mqttUrl,
            radio,
            api: o.api,
            stateDir: o.stateDir,
            kioskBoard: (o.emulate && i === 0 ? "emulated" : "light") as BoardKind,
          },
        ),
    );
    const devices = new SimDevices(drivers, radio);
    try {
      await Promise.all(drivers.map((d) => d.start()));
    } catch (e) {
      await devices.stop();
      throw e;
    }
    return devices;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.drivers.map((d) => d.stop()));
    await this.radio.stop();
  }
}
