/**
 * A guard in front of the MQTT parser: it reads each packet's fixed header as the bytes arrive and
 * cuts the connection off the moment a packet claims more than it may carry, before aedes buffers a
 * byte of its body. The first packet must be a small CONNECT; until the client has authenticated,
 * the connection may send only a bounded number of bytes in all; no packet may claim more than
 * `maxPacketBytes`. Bytes pass through unchanged.
 */
import { Duplex } from "node:stream";

export interface GuardLimits {
  /** Largest CONNECT (remaining length): client id, user name and a token fit easily. */
  connectBytes: number;
  /** All bytes a connection may send before it has authenticated (CONNECT and what follows it). */
  preAuthTotalBytes: number;
  /** Largest packet of any other kind. */
  maxPacketBytes: number;
}

export type GuardViolation = "packet_too_large" | "connect_first" | "preauth_bytes" | "malformed_length";

/** Limits for a broker whose publishes carry at most `maxPayloadBytes`. */
export function guardLimits(maxPayloadBytes: number): GuardLimits {
  const maxPacketBytes = maxPayloadBytes + 1024; // topic, packet id
  return { connectBytes: 4096, preAuthTotalBytes: 4096 + maxPacketBytes, maxPacketBytes };
}

/** Duplex streams aedes can be handed; a socket also gets no-delay. */
interface Inner extends Duplex {
  setNoDelay?: (noDelay?: boolean) => unknown;
  remoteAddress?: string;
}

export class GuardedConnection extends Duplex {
  /** Set once the broker has authenticated the client. */
  authenticated = false;
  private state: "header" | "length" | "body" = "header";
  private packets = 0;
  private packetType = 0;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;
  private received = 0;

  constructor(
    private readonly inner: Inner,
    private readonly limits: GuardLimits,
    private readonly onViolation: (v: GuardViolation, detail: { claimed?: number }) => void,
  ) {
    super({ allowHalfOpen: false });
    inner.setNoDelay?.(true);
    inner.on("data", (chunk: Buffer) => {
      const v = this.scan(chunk);
      if (v !== undefined) {
        this.onViolation(v.kind, v.claimed === undefined ? {} : { claimed: v.claimed });
        inner.destroy();
        this.destroy();
        return;
      }
      if (!this.push(chunk)) inner.pause();
    });
    inner.on("end", () => this.push(null));
    inner.on("error", (e) => this.destroy(e));
    inner.on("close", () => this.destroy());
  }

  get remoteAddress(): string | undefined {
    return this.inner.remoteAddress;
  }

  override _read(): void {
    this.inner.resume();
  }

  /**
   * Writes go to the socket as soon as it takes them (back-pressure: the next write waits for its
   * drain), and what was written while corked goes as one write: mqtt-packet writes a PUBACK in two
   * pieces, and a group commit releases hundreds of PUBACKs in one turn. (Waiting for each write's
   * callback instead serialized the writes of a connection, one system call per piece.)
   */
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.forward(chunk, cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (e?: Error | null) => void): void {
    this.forward(
      chunks.length === 1
        ? (chunks[0] as { chunk: Buffer }).chunk
        : Buffer.concat(chunks.map((c) => c.chunk)),
      cb,
    );
  }

  private forward(bytes: Buffer, cb: (e?: Error | null) => void): void {
    if (this.inner.destroyed) {
      cb();
      return;
    }
    if (this.inner.write(bytes)) cb();
    else {
      // Done at the socket's drain, or at its end: a socket that goes away stops the writes too.
      const done = () => {
        this.inner.off("drain", done);
        this.inner.off("close", done);
        cb();
      };
      this.inner.on("drain", done);
      this.inner.on("close", done);
    }
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.inner.end(cb);
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (!this.inner.destroyed) this.inner.destroy();
    cb(err);
  }

  /** Walks the packet boundaries in `chunk`; the first violation found, if any. */
  private scan(chunk: Buffer): { kind: GuardViolation; claimed?: number } | undefined {
    const header = this.scanHeaders(chunk);
    if (header) return header;
    if (!this.authenticated) {
      this.received += chunk.length;
      if (this.received > this.limits.preAuthTotalBytes) return { kind: "preauth_bytes" };
    }
    return undefined;
  }

  private scanHeaders(chunk: Buffer): { kind: GuardViolation; claimed?: number } | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === "body") {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.state = "header";
        continue;
      }
      const byte = chunk[i++] as number;
      if (this.state === "header") {
        this.packetType = byte >> 4;
        if (this.packets === 0 && this.packetType !== 1) return { kind: "connect_first" };
        this.state = "length";
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      // Remaining length: up to four bytes, seven bits each (MQTT 3.1.1 §2.2.3).
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (byte & 0x80) {
        if (this.lengthBytes >= 4) return { kind: "malformed_length" };
        continue;
      }
      const max = this.packetType === 1 ? this.limits.connectBytes : this.limits.maxPacketBytes;
      if (this.length > max) return { kind: "packet_too_large", claimed: this.length };
      this.packets++;
      this.remaining = this.length;
      this.state = this.length === 0 ? "header" : "body";
    }
    return undefined;
  }
}
