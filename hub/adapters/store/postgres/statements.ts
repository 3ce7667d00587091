/** The PostgreSQL store's statements: each batch is one statement over arrays (`unnest`). */

/** The devices' replay state from the arrays at parameters $n to $n+5 (a null battery keeps the last one). */
export function deviceState(n: number): string {
  return `UPDATE devices d SET replay_highest = u.highest, replay_seen = u.seen,
    last_seen_at = u.last_seen, clock_offset_ms = u.offset_ms, battery = coalesce(u.battery, d.battery)
  FROM unnest($${n}::text[], $${n + 1}::bigint[], $${n + 2}::text[], $${n + 3}::bigint[], $${n + 4}::bigint[],
    $${n + 5}::bigint[])
    AS u(id, highest, seen, last_seen, offset_ms, battery)
  WHERE d.id = u.id`;
}

/** The events and the devices' state in one statement (the state in a data-modifying WITH). */
export const INSERT_EVENTS = `WITH state AS (${deviceState(14)})
  INSERT INTO events
    (device, counter, type, visit_id, subject, site_id, device_time, eff_time, hub_time, clock_offset_ms, source, body,
     frame)
  SELECT device, counter, type, visit_id, subject, site_id, device_time, eff_time, hub_time, clock_offset_ms,
    source::json, body::json, frame
  FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[],
    $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::text[])
    WITH ORDINALITY AS u(device, counter, type, visit_id, subject, site_id, device_time, eff_time, hub_time,
      clock_offset_ms, source, body, frame, ord)
  ORDER BY ord
  ON CONFLICT (device, counter) DO NOTHING
  RETURNING seq, device, counter`;

export const ATTRIBUTE = `UPDATE events e SET visit_id = u.visit_id
  FROM unnest($1::text[], $2::bigint[], $3::text[]) AS u(device, counter, visit_id)
  WHERE e.device = u.device AND e.counter = u.counter`;

export const PUT_VIEWS = `INSERT INTO views (visit_id, doc, last_seq, projected_at)
  SELECT visit_id, doc::json, 0, projected_at FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(visit_id, doc, projected_at)
  ON CONFLICT (visit_id) DO UPDATE SET doc = excluded.doc, projected_at = excluded.projected_at`;

export const PUT_META = `INSERT INTO meta (key, value) VALUES ($1, $2)
  ON CONFLICT (key) DO UPDATE SET value = excluded.value`;

export const INSERT_VISITS = `INSERT INTO visits
    (id, site_id, engineer_id, window_from, window_to, created_at, cancelled_at, cancel_reason)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
    $8::text[])
  ON CONFLICT (id) DO NOTHING RETURNING id`;

/** A 'created' entry per visit the insert returned ($1: ids, $2: plans as JSON, in the same order). */
export const INSERT_CREATED = `INSERT INTO visit_changes (visit_id, at, changed_by, kind, note, before, after)
  SELECT id, $3, $4, 'created', NULL, NULL, plan::json FROM unnest($1::text[], $2::text[]) AS u(id, plan)`;

export const PUT_OUTBOX = `INSERT INTO outbox (id, key, type, at, site_id, visit_id, channel, target, recipient, body,
    status, attempts, next_at, last_error, created_at, delivered_at)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[],
    $8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[], $13::bigint[], $14::text[], $15::bigint[],
    $16::bigint[])
  ON CONFLICT DO NOTHING`;

export const PUT_DEVICE = `INSERT INTO devices (id, kind, engineer_id, site_id, badge_no, rfid_tag, password_hash, sealed_key,
    created_at, revoked_at, clock_offset_ms, last_seen_at, replay_highest, replay_seen, battery)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
  ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, engineer_id = excluded.engineer_id,
    site_id = excluded.site_id, badge_no = excluded.badge_no, rfid_tag = excluded.rfid_tag,
    password_hash = excluded.password_hash, sealed_key = excluded.sealed_key, revoked_at = excluded.revoked_at,
    clock_offset_ms = excluded.clock_offset_ms, last_seen_at = excluded.last_seen_at,
    replay_highest = excluded.replay_highest, replay_seen = excluded.replay_seen, battery = excluded.battery`;

export const PUT_PRESENCE = `INSERT INTO presence (id, badge, gateway, site_id, arrived_at, last_heard_at, departed_at,
    detected_at, sightings, rssi, last_frame)
  SELECT id, badge, gateway, site_id, arrived_at, last_heard_at, departed_at, detected_at, sightings, rssi::json,
    last_frame
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[],
    $9::bigint[], $10::text[], $11::text[])
    AS u(id, badge, gateway, site_id, arrived_at, last_heard_at, departed_at, detected_at, sightings, rssi, last_frame)
  ON CONFLICT (id) DO UPDATE SET last_heard_at = excluded.last_heard_at, departed_at = excluded.departed_at,
    detected_at = excluded.detected_at, sightings = excluded.sightings, rssi = excluded.rssi,
    last_frame = excluded.last_frame`;

/** A site's or engineer's document now and its version from `at` on, in one statement. */
export const putVersioned = (table: string, versions: string, key: string) => `WITH cur AS (
    INSERT INTO ${table} (id, doc) VALUES ($1, $2::json) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc
  )
  INSERT INTO ${versions} (${key}, valid_from, changed_by, doc) VALUES ($1, $3, $4, $2::json)
  ON CONFLICT (${key}, valid_from) DO UPDATE SET changed_by = excluded.changed_by, doc = excluded.doc`;

/** The version in effect at $2 (the latest from at or before it), else the earliest. */
export const versionAt = (versions: string, key: string) => `SELECT doc FROM ${versions} WHERE ${key} = $1
  ORDER BY valid_from <= $2 DESC, CASE WHEN valid_from <= $2 THEN -valid_from ELSE valid_from END LIMIT 1`;

/**
 * A number a query compares a BIGINT column with, as the same comparison on SQLite's numbers would
 * go: a fraction rounded the way that keeps the comparison (`col < 1.5` is `col < 2`), anything
 * beyond every stored value (epoch ms, counters, seqs: all far below 2^53) held at ±2^53, NaN as
 * NULL (no row compares true). Without it `from=1e20` in a query string would be an error here.
 */
export function bound(x: number, round: "floor" | "ceil"): number | null {
  if (Number.isNaN(x)) return null;
  const r = round === "floor" ? Math.floor(x) : Math.ceil(x);
  return Math.min(Math.max(r, -Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
}

export const eventKey = (device: string, counter: number) => `${device}\n${counter}`;
