/**
 * A raw MQTT 3.1.1 client for the attacker's tests: any bytes, any source address on loopback
 * (127.0.0.2 and so on are ours on Linux), packets read back with mqtt-packet.
 */
import { connect, type Socket } from "node:net";
import mqttPacket, { type Packet } from "mqtt-packet";

export interface RawClient {
  socket: Socket;
  packets: Packet[];
  closed: Promise<void>;
  send(p: Parameters<typeof mqttPacket.generate>[0]): void;
  /** The next packet of this kind (or of any kind), within `ms`. */
  next(cmd?: string, ms?: number): Promise<Packet>;
}

export function rawClient(port: number, localAddress = "127.0.0.1"): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", localAddress, noDelay: true });
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const packets: Packet[] = [];
    const waiters: Array<{ cmd: string | undefined; resolve: (p: Packet) => void }> = [];
    parser.on("packet", (p) => {
      const w = waiters.findIndex((x) => x.cmd === undefined || x.cmd === p.cmd);
      if (w >= 0) waiters.splice(w, 1)[0]?.resolve(p);
      else packets.push(p);
    });
    socket.on("data", (d) => parser.parse(d));
    socket.on("error", () => {});
    const closed = new Promise<void>((r) => socket.once("close", () => r()));
    socket.once("connect", () =>
      resolve({
        socket,
        packets,
        closed,
        send: (p) => {
          if (!socket.destroyed) socket.write(mqttPacket.generate(p));
        },
        next: (cmd, ms = 5000) =>
          new Promise<Packet>((res, rej) => {
            const i = packets.findIndex((p) => cmd === undefined || p.cmd === cmd);
            if (i >= 0) return res(packets.splice(i, 1)[0] as Packet);
            const t = setTimeout(() => rej(new Error(`no ${cmd ?? "packet"} within ${ms} ms`)), ms);
            waiters.push({
              cmd,
              resolve: (p) => {
                clearTimeout(t);
                res(p);
              },
            });
            void closed.then(() => {
              clearTimeout(t);
              rej(new Error(`closed before ${cmd ?? "a packet"}`));
            });
          }),
      }),
    );
    socket.once("error", reject);
  });
}

/** Logs in; resolves with the CONNACK return code. */
export async function rawLogin(
  port: number,
  user: { clientId: string; username: string; password: string },
  localAddress?: string,
): Promise<{ client: RawClient; returnCode: number }> {
  const client = await rawClient(port, localAddress);
  client.send({
    cmd: "connect",
    protocolId: "MQTT",
    protocolVersion: 4,
    clean: true,
    keepalive: 30,
    clientId: user.clientId,
    username: user.username,
    password: Buffer.from(user.password),
  });
  const ack = await client.next("connack", 20_000).catch(() => undefined);
  return { client, returnCode: ack && "returnCode" in ack ? (ack.returnCode ?? -1) : -1 };
}

/** A fixed header claiming `length` bytes of body (the remaining length, MQTT §2.2.3). */
export function claimHeader(type: number, length: number): Buffer {
  const bytes = [type << 4];
  let n = length;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    bytes.push(b);
  } while (n > 0);
  return Buffer.from(bytes);
}
