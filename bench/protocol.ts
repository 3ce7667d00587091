/** Frame verification and visit projection, each against a bare baseline in the same process. */
import { createHmac } from "node:crypto";
import { emptyView, projectVisit } from "../hub/core/index.js";
import { decodeEventPayload, decodeFrame, fromHex } from "../protocol/index.js";
import { cleanVisit, ctx } from "../test/hub/core/fixtures.js";
import { eventVectors, frameVectors, testKey, testKeys } from "../test/protocol/vectors.js";
import { fmt, rate } from "./measure.js";

export function benchProtocol(): void {
  const frame = fromHex(frameVectors.vectors[0]?.hex ?? "");
  const bare = rate(() => createHmac("sha256", testKey).update(frame.subarray(0, 15)).digest());
  const full = rate(() => decodeFrame(frame, testKeys));
  console.log(
    `frame decode+verify: ${fmt(full.perSecond)}/s; bare HMAC: ${fmt(bare.perSecond)}/s; ratio ${(full.perSecond / bare.perSecond).toFixed(2)}`,
  );

  const json = JSON.stringify(eventVectors.valid[8]?.event);
  const parse = rate(() => JSON.parse(json));
  const validated = rate(() => decodeEventPayload(json));
  console.log(
    `event parse+validate: ${fmt(validated.perSecond)}/s; bare JSON.parse: ${fmt(parse.perSecond)}/s; ratio ${(validated.perSecond / parse.perSecond).toFixed(2)}`,
  );

  const events = cleanVisit();
  const empty = rate(() => emptyView(ctx), { maxOps: 200_000 });
  const projected = rate(() => projectVisit(ctx, events, ctx.plan.window.to), { maxOps: 200_000 });
  console.log(
    `visit projection (10 events): ${fmt(projected.perSecond)}/s; empty view: ${fmt(empty.perSecond)}/s; ratio ${(projected.perSecond / empty.perSecond).toFixed(3)}`,
  );
}
