/**
 * One device of the load generators, on a raw MQTT 3.1.1 socket (mqtt-packet): connects as itself,
 * publishes events at QoS 1 and times each PUBACK, and acknowledges the QoS 1 commands it is sent.
 */
import { connect, type Socket } from "node:net";
import mqttPacket from "mqtt-packet";

const now = () => Number(process.hrtime.bigint()) / 1e6;

export class RawDevice {
  private readonly sock: Socket;
  private readonly parser = mqttPacket.parser({ protocolVersion: 4 });
  private nextId = 1;
  counter: number;
  readonly inflight = new Map<number, number>();
  acked = 0;
  sent = 0;
  ready: Promise<void>;

  constructor(
    port: number,
    readonly id: string,
    password: string,
    counterBase: number,
    private readonly onAck: (ms: number) => void,
  ) {
    this.counter = counterBase;
    this.sock = connect({ port, host: "127.0.0.1", noDelay: true });
    this.ready = new Promise((resolve, reject) => {
      this.parser.on("packet", (p) => {
        if (p.cmd === "connack") {
          if (p.returnCode === 0) resolve();
          else reject(new Error(`${id}: connack ${p.returnCode}`));
        } else if (p.cmd === "puback" && p.messageId !== undefined) {
          const t0 = this.inflight.get(p.messageId);
          if (t0 !== undefined) {
            this.inflight.delete(p.messageId);
            this.acked++;
            this.onAck(now() - t0);
          }
        } else if (p.cmd === "publish" && p.qos === 1 && p.messageId !== undefined) {
          this.sock.write(mqttPacket.generate({ cmd: "puback", messageId: p.messageId }));
        }
      });
      this.sock.once("error", reject);
    });
    this.sock.on("data", (d) => this.parser.parse(d));
    this.sock.write(
      mqttPacket.generate({
        cmd: "connect",
        protocolId: "MQTT",
        protocolVersion: 4,
        clientId: id,
        clean: true,
        keepalive: 0,
        username: id,
        password: Buffer.from(password),
      }),
    );
  }

  /** Publishes one event (`body` without the envelope); returns the event's counter. */
  publish(body: Record<string, unknown>): number {
    const messageId = this.nextId;
    this.nextId = (this.nextId % 65535) + 1;
    this.counter++;
    const payload = JSON.stringify({
      v: 1,
      device: this.id,
      counter: this.counter,
      time: Date.now(),
      ...body,
    });
    this.inflight.set(messageId, now());
    this.sent++;
    this.sock.write(
      mqttPacket.generate({
        cmd: "publish",
        topic: `onsite/v1/dev/${this.id}/events`,
        payload,
        qos: 1,
        messageId,
        retain: false,
        dup: false,
      }),
    );
    return this.counter;
  }

  close(): void {
    this.sock.end(mqttPacket.generate({ cmd: "disconnect" }));
  }
}
