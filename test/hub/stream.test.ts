/**
 * The live stream on a real hub (HTTP on a port, raw sockets as the browsers): every visit update
 * reaches a reading stream, in order, each a whole message with the board row; a stream that stops
 * reading is ended once it holds too much, while the others go on — the hub does not buffer for it
 * without bound.
 */
import { connect, type Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Hub } from "../../hub/app.js";
import { eventually, newToken, seed, startHub, tempDir } from "./helpers.js";

let dir: ReturnType<typeof tempDir>;
let hub: Hub;
let token: string;
/** What a stream may hold unsent here: low, as the kernel's socket buffers take many megabytes first. */
const LIMIT = 256 * 1024;

beforeEach(async () => {
  dir = tempDir();
  hub = await startHub(dir.path, {}, { http: { host: "127.0.0.1", port: 0, streamBufferBytes: LIMIT } });
  await seed(hub);
  const now = Date.now();
  const plan = {
    id: "V1",
    siteId: "S1",
    engineerId: "E1",
    window: { from: now - 60_000, to: now + 3_600_000 },
  };
  await hub.ctx.store.insertVisits([plan]);
  hub.ctx.visits.plansChanged([plan]);
  await hub.ctx.ingest.settle();
  token = await newToken(hub, "supervisor", "stream-test");
});

afterEach(async () => {
  await hub.stop();
  dir.cleanup();
});

/** A stream read off a raw socket; `paused` sockets read nothing until resumed. */
function openStream(paused = false): Promise<{ sock: Socket; text: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: "127.0.0.1", port: hub.httpPort });
    let text = "";
    const closed = new Promise<void>((r) => sock.once("close", () => r()));
    sock.once("error", reject);
    sock.write(
      `GET /api/v1/stream?access_token=${encodeURIComponent(token)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
    );
    sock.on("data", (d) => {
      text += d.toString("utf8");
      if (paused && text.includes(": connected")) {
        paused = false; // once: `resume()` lets it read for good
        sock.pause();
      }
    });
    const ready = () =>
      text.includes(": connected") ? resolve({ sock, text: () => text, closed }) : setTimeout(ready, 10);
    ready();
  });
}

/** A kit list of 50 items of 80 characters, numbered `i`: a large row. */
const bigList = (i: number) =>
  Array.from({ length: 50 }, (_, k) => `${String(i).padStart(6, "0")}-${k}-${"x".repeat(70)}`);

/** `n` kit lists from the badge for V1, each making a visit update with a large row. */
async function updates(n: number, from = 1): Promise<void> {
  const one = (i: number) =>
    hub.ctx.ingest.submitEvent(
      {
        v: 1,
        type: "kit_checked",
        device: "badge-1",
        counter: i,
        time: Date.now(),
        visit: "V1",
        complete: false,
        missing: bigList(i),
      },
      "badge-1",
      "test",
    );
  // A hundred at a time: each commit takes many, as under load.
  for (let i = from; i < from + n; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, from + n - i) }, (_, k) => one(i + k)));
    await hub.ctx.ingest.settle();
  }
}

const visitMessages = (text: string) =>
  [...text.matchAll(/event: visit\ndata: (.*)\n\n/g)].map(
    (m) =>
      JSON.parse(m[1] as string) as { row: { visitId: string; kitChecked: { missing: string[] } | null } },
  );

describe("live stream", () => {
  it("a reading stream gets the updates in order, each a whole message with its row, up to the last", async () => {
    const s = await openStream();
    await updates(300);
    const seen = await eventually(() => {
      const m = visitMessages(s.text());
      return Number(m.at(-1)?.row.kitChecked?.missing[0]?.slice(0, 6)) === 300 ? m : undefined;
    });
    // Updates a projection step makes together are one message: fewer messages than events, never out of order.
    const firsts = seen.map((m) => Number(m.row.kitChecked?.missing[0]?.slice(0, 6)));
    expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
    expect(new Set(firsts).size).toBe(firsts.length);
    s.sock.destroy();
  });

  it("a hub stopping ends the streams instead of waiting for the browsers", async () => {
    const s = await openStream();
    await hub.stop();
    await s.closed;
    expect(s.text()).toContain("event: restart");
    hub = await startHub(dir.path); // for afterEach
  });

  it("a stream that stops reading is ended once it holds too much; the others go on", async () => {
    // 100 visits, each updated 80 times: a message per visit per step, about 5 KB each, some
    // 40 MB in all — well past what the kernel's buffers (16 MB here) and the limit hold.
    const now = Date.now();
    const plans = Array.from({ length: 100 }, (_, v) => ({
      id: `W${v}`,
      siteId: "S1",
      engineerId: `E-${v}`,
      window: { from: now - 60_000, to: now + 3_600_000 },
    }));
    for (const p of plans)
      await hub.ctx.store.putEngineer({
        id: p.engineerId,
        name: p.engineerId,
        company: "C",
        certificates: [],
      });
    await hub.ctx.store.insertVisits(plans);
    hub.ctx.visits.plansChanged(plans);
    await hub.ctx.ingest.settle();
    const ROUNDS = 80;
    const stuck = await openStream(true);
    const reading = await openStream();
    for (let round = 1; round <= ROUNDS; round++) {
      await Promise.all(
        plans.map((p) =>
          hub.ctx.ingest.submitOperatorEvent(
            { type: "kit_checked", complete: false, missing: bigList(round) },
            "dispatcher",
            p.id,
          ),
        ),
      );
      await hub.ctx.ingest.settle();
    }
    // The reading stream gets every visit's last update (updates one step makes together coalesce).
    const lastRound = (text: string) =>
      new Set(
        visitMessages(text)
          .filter((m) => m.row.kitChecked?.missing[0]?.startsWith(String(ROUNDS).padStart(6, "0")))
          .map((m) => m.row.visitId),
      );
    const got = await eventually(() => {
      const m = visitMessages(reading.text());
      return lastRound(reading.text()).size === plans.length ? m : undefined;
    }, 20_000);
    // The stuck stream was ended: once it reads again it gets what the kernel held, then the end.
    stuck.sock.resume();
    await Promise.race([
      stuck.closed,
      new Promise((_, reject) => setTimeout(() => reject(new Error("not ended")), 10_000)),
    ]);
    expect(visitMessages(stuck.text()).length).toBeLessThan(got.length / 2);
    expect(lastRound(stuck.text()).size).toBe(0);
    expect(await hub.ctx.metrics.render()).toMatch(/onsite_stream_dropped_total 1\b/);
    reading.sock.destroy();
  }, 60_000);
});
