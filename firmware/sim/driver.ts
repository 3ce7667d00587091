/**
 * Runs one scenario's devices: the badge program and the kiosk program on virtual boards, an RFID
 * reader on a mock serial port, the badge heard by a gateway over MQTT or by the hub's BLE central. Actions become what a
 * person does: presses on the board's pins, a tag on the reader, a report from the engineer's app.
 *
 * The devices boot once (`start`) and may play visit after visit (`begin`), as a site's kiosk and an
 * engineer's badge do: johnny-five keeps every board and component ever made in registries of its
 * own (one program per process is its model), so programs booted for every visit would never be
 * freed in a long-running simulation.
 */
import { join } from "node:path";
import { SerialPortMock } from "serialport";
import { BADGE_PROFILE } from "../../hardware/profiles/badge.js";
import { KIOSK_PROFILE } from "../../hardware/profiles/kiosk.js";
import { type BoardKind, createVirtualBoard, type VirtualBoard } from "../../hardware/virtual/boards.js";
import { fromHex, type PpeItem } from "../../protocol/index.js";
import { Badge } from "../badge/badge.js";
import { Kiosk, type KioskState } from "../kiosk/kiosk.js";
import { rdm6300Frame } from "../kiosk/rdm6300.js";
import type { HubApi } from "./api.js";
import type { SimRadio } from "./radios.js";
import type { SimAction } from "./scenarios.js";

export interface ScenarioDevices {
  badge: { id: string; badgeNo: number; key: string; tag: string };
  kiosk: { id: string; password: string };
  ppe: PpeItem[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

let rfidPorts = 0;
/** Mock port paths free again: serialport's mock binding keeps every port it was asked to create. */
const freeRfidPorts: string[] = [];

export class ScenarioDriver {
  private kioskBoard!: VirtualBoard;
  private badgeBoard!: VirtualBoard;
  kiosk!: Kiosk;
  badge!: Badge;
  private rfid!: SerialPortMock;
  private rfidPath: string | undefined;
  /** The visit being played: the engineer's app reports on it. */
  visitId = "";
  private outOfRange = false;

  constructor(
    private readonly d: ScenarioDevices,
    private readonly opts: {
      mqttUrl: string;
      radio: SimRadio;
      api: HubApi;
      stateDir: string;
      kioskBoard: BoardKind;
    },
  ) {}

  async start(): Promise<void> {
    const { d, opts } = this;
    const path = freeRfidPorts.pop() ?? `/dev/onsite-sim-rfid-${rfidPorts++}`;
    this.rfidPath = path;
    SerialPortMock.binding.createPort(path, { record: false });
    this.rfid = new SerialPortMock({ path, baudRate: KIOSK_PROFILE.rfid.baudRate });
    if (!this.rfid.isOpen) await new Promise<void>((r) => this.rfid.on("open", () => r()));
    this.kioskBoard = createVirtualBoard(opts.kioskBoard);
    this.kiosk = await Kiosk.start({
      io: this.kioskBoard.io,
      profile: KIOSK_PROFILE,
      deviceId: d.kiosk.id,
      mqtt: { url: opts.mqttUrl, password: d.kiosk.password },
      rfid: this.rfid,
      stateDir: join(opts.stateDir, d.kiosk.id),
    });
    this.badgeBoard = createVirtualBoard("light");
    this.badge = await Badge.start({
      io: this.badgeBoard.io,
      profile: BADGE_PROFILE,
      deviceId: d.badge.id,
      badgeNo: d.badge.badgeNo,
      key: fromHex(d.badge.key),
      radio: opts.radio.radioFor(d.badge),
      stateDir: join(opts.stateDir, d.badge.id),
      ppe: d.ppe,
      battery: () => 88,
    });
  }

  /**
   * The next visit begins: the badge's steps start again at arrival, the badge is back in range and
   * nobody is pressing anything (a step that failed in the last visit may have left a button down).
   */
  begin(visitId: string): void {
    this.visitId = visitId;
    this.kioskBoard.input(KIOSK_PROFILE.buttons.confirm, false);
    this.kioskBoard.input(KIOSK_PROFILE.buttons.decline, false);
    this.kioskBoard.input(KIOSK_PROFILE.buttons.next, false);
    this.badgeBoard.input(BADGE_PROFILE.button, false);
    if (this.outOfRange) this.setInRange(true);
    this.badge.startVisit();
  }

  private setInRange(inRange: boolean): void {
    this.outOfRange = !inRange;
    this.opts.radio.setInRange(this.d.badge.badgeNo, inRange);
  }

  private async holdBadge(ms: number): Promise<void> {
    this.badgeBoard.input(BADGE_PROFILE.button, true);
    await sleep(ms);
    this.badgeBoard.input(BADGE_PROFILE.button, false);
    await sleep(60);
  }

  private async pressKiosk(button: "confirm" | "decline" | "next"): Promise<void> {
    const pressed = this.kiosk.presses[button];
    const released = this.kiosk.releases[button];
    this.kioskBoard.input(KIOSK_PROFILE.buttons[button], true);
    await until(() => this.kiosk.presses[button] > pressed, 10_000, `kiosk ${button} press`);
    this.kioskBoard.input(KIOSK_PROFILE.buttons[button], false);
    await until(() => this.kiosk.releases[button] > released, 10_000, `kiosk ${button} release`);
  }

  private async kioskIn(state: KioskState, ms = 15_000): Promise<void> {
    await until(() => this.kiosk.state === state, ms, `kiosk state ${state} (is ${this.kiosk.state})`);
  }

  async act(a: SimAction): Promise<void> {
    switch (a.do) {
      case "arrive":
      case "gear":
      case "work":
      case "depart":
        // A short press: the badge's next step (it waits out the double-press window).
        await this.holdBadge(60);
        await sleep(BADGE_PROFILE.doublePressMs + 100);
        return;
      case "late":
        await this.holdBadge(40);
        await sleep(120);
        await this.holdBadge(40);
        return;
      case "sos":
        await this.holdBadge(BADGE_PROFILE.longPressMs + 300);
        return;
      case "out_of_range":
        this.setInRange(false);
        return;
      case "in_range":
        this.setInRange(true);
        await this.badge.drain();
        return;
      case "tap":
        (this.rfid.port as unknown as { emitData(b: Buffer): void }).emitData(rdm6300Frame(this.d.badge.tag));
        return;
      case "confirm_checkin":
        await this.kioskIn("confirm_checkin");
        await this.pressKiosk("confirm");
        return;
      case "confirm_completion":
        await this.kioskIn("confirm_completion");
        await this.pressKiosk(a.resolved ? "confirm" : "decline");
        await this.kioskIn("rating");
        while (this.kiosk.rating !== a.rating) await this.pressKiosk("next");
        await this.pressKiosk("confirm");
        return;
      case "sign_cleanup":
        // The hub asks item by item; the customer signs each one it shows, until it says thank you.
        for (;;) {
          await until(
            () => this.kiosk.cleanupItem !== undefined || this.kiosk.state === "done",
            15_000,
            "a clean-up prompt",
          );
          if (this.kiosk.cleanupItem === undefined) return;
          await this.pressKiosk("confirm");
        }
      case "report":
        await this.opts.api.call("POST", `/api/v1/visits/${this.visitId}/events`, {
          type: "completion_submitted",
          cause: "Worn pump seal",
          parts: [{ name: "Seal kit", partNo: "SK-40", quantity: 1 }],
          workDone: "Replaced the seal and pressure-tested the pump",
          advice: "Inspect the seal yearly",
        });
        return;
    }
  }

  async stop(): Promise<void> {
    await this.kiosk?.stop();
    await this.badge?.stop();
    const rfid = this.rfid;
    if (rfid?.isOpen) await new Promise<void>((resolve) => rfid.close(() => resolve()));
    if (this.rfidPath !== undefined) freeRfidPorts.push(this.rfidPath);
    this.rfidPath = undefined;
    await this.kioskBoard?.close();
    await this.badgeBoard?.close();
  }
}
