/**
 * Versioned schema migrations for PostgreSQL. Append only: a shipped migration is never edited.
 * Version N holds the same schema meaning as the SQLite store's migration N, so "schema version 4"
 * says the same thing of either database. Types: BIGINT for epoch ms, counters and seqs; TEXT
 * COLLATE "C" for ids (byte order, as SQLite's BINARY); JSON (not JSONB) for documents, which keeps
 * them as written — key order, `\u0000`, lone surrogates — as SQLite's TEXT does (JSONB refuses the
 * last two). Columns SQLite calls `by` are `changed_by`/`acked_by` here (`BY` is reserved).
 */
export const PG_MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: "initial",
    sql: `
      CREATE TABLE sites (id TEXT COLLATE "C" PRIMARY KEY, doc JSON NOT NULL);
      CREATE TABLE engineers (id TEXT COLLATE "C" PRIMARY KEY, doc JSON NOT NULL);
      CREATE TABLE visits (
        id TEXT COLLATE "C" PRIMARY KEY,
        site_id TEXT COLLATE "C" NOT NULL REFERENCES sites(id),
        engineer_id TEXT COLLATE "C" NOT NULL REFERENCES engineers(id),
        window_from BIGINT NOT NULL,
        window_to BIGINT NOT NULL
      );
      CREATE INDEX visits_site_window ON visits (site_id, window_from);
      CREATE INDEX visits_engineer_window ON visits (engineer_id, window_from);
      CREATE TABLE devices (
        id TEXT COLLATE "C" PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('badge', 'kiosk', 'gateway')),
        engineer_id TEXT COLLATE "C" REFERENCES engineers(id),
        site_id TEXT COLLATE "C" REFERENCES sites(id),
        badge_no BIGINT UNIQUE,
        rfid_tag TEXT UNIQUE,
        password_hash TEXT NOT NULL,
        sealed_key TEXT,
        created_at BIGINT NOT NULL,
        revoked_at BIGINT,
        clock_offset_ms BIGINT NOT NULL DEFAULT 0,
        last_seen_at BIGINT,
        replay_highest BIGINT NOT NULL DEFAULT -1,
        replay_seen TEXT NOT NULL DEFAULT '0'
      );
      CREATE TABLE events (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        device TEXT COLLATE "C" NOT NULL,
        counter BIGINT NOT NULL,
        type TEXT NOT NULL,
        visit_id TEXT COLLATE "C",
        device_time BIGINT NOT NULL,
        hub_time BIGINT NOT NULL,
        clock_offset_ms BIGINT NOT NULL,
        source JSON NOT NULL,
        body JSON NOT NULL,
        UNIQUE (device, counter)
      );
      CREATE INDEX events_visit ON events (visit_id, seq);
      CREATE TABLE views (
        visit_id TEXT COLLATE "C" PRIMARY KEY REFERENCES visits(id),
        doc JSON NOT NULL,
        last_seq BIGINT NOT NULL,
        projected_at BIGINT NOT NULL
      );
      CREATE TABLE tokens (
        digest TEXT COLLATE "C" PRIMARY KEY,
        role TEXT NOT NULL,
        name TEXT NOT NULL,
        site_id TEXT COLLATE "C",
        created_at BIGINT NOT NULL,
        revoked_at BIGINT
      );
      CREATE TABLE alarm_acks (
        visit_id TEXT COLLATE "C" NOT NULL,
        alarm_at BIGINT NOT NULL,
        acked_by TEXT NOT NULL,
        acked_at BIGINT NOT NULL,
        PRIMARY KEY (visit_id, alarm_at)
      );
    `,
  },
  {
    version: 2,
    name: "presence sessions",
    sql: `
      CREATE TABLE presence (
        id TEXT COLLATE "C" PRIMARY KEY,
        badge TEXT COLLATE "C" NOT NULL,
        gateway TEXT COLLATE "C" NOT NULL,
        site_id TEXT COLLATE "C",
        arrived_at BIGINT NOT NULL,
        last_heard_at BIGINT NOT NULL,
        departed_at BIGINT,
        detected_at BIGINT,
        sightings BIGINT NOT NULL,
        rssi JSON NOT NULL,
        last_frame TEXT NOT NULL
      );
      CREATE INDEX presence_badge ON presence (badge, arrived_at);
      CREATE INDEX presence_site ON presence (site_id, arrived_at);
    `,
  },
  {
    version: 3,
    name: "attribution by facts: event subject and effective time, projection watermark",
    sql: `
      ALTER TABLE events ADD COLUMN subject TEXT COLLATE "C";
      ALTER TABLE events ADD COLUMN eff_time BIGINT;
      UPDATE events SET eff_time = device_time + clock_offset_ms;
      UPDATE events SET subject = v.engineer_id FROM visits v WHERE v.id = events.visit_id;
      UPDATE events SET subject = source->>'engineerId'
        WHERE subject IS NULL AND source->>'kind' = 'badge';
      UPDATE events SET subject = body->>'engineer'
        WHERE subject IS NULL AND type = 'checkin_confirmed';
      UPDATE events SET subject = d.engineer_id FROM devices d
        WHERE events.subject IS NULL AND events.type = 'checkin_request' AND d.rfid_tag = events.body->>'tag';
      ALTER TABLE visits ADD COLUMN created_at BIGINT;
      ALTER TABLE events ADD COLUMN site_id TEXT COLLATE "C";
      UPDATE events SET site_id = source->>'siteId' WHERE source->>'kind' = 'kiosk';
      CREATE INDEX events_subject_time ON events (subject, eff_time);
      CREATE INDEX events_site_time ON events (site_id, eff_time) WHERE subject IS NULL;
      UPDATE views SET doc = (doc::jsonb - 'timeline')::json;
      CREATE TABLE meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO meta (key, value) SELECT 'projection_watermark', coalesce(
        (SELECT min(e.seq) - 1 FROM events e LEFT JOIN views w ON w.visit_id = e.visit_id
          WHERE e.visit_id IS NOT NULL AND e.seq > coalesce(w.last_seq, 0)),
        (SELECT max(seq) FROM events), 0)::text;
    `,
  },
  {
    version: 4,
    name: "versions of sites and engineers (a visit is judged as of its own time)",
    sql: `
      CREATE TABLE site_versions (
        site_id TEXT COLLATE "C" NOT NULL, valid_from BIGINT NOT NULL, changed_by TEXT, doc JSON NOT NULL,
        PRIMARY KEY (site_id, valid_from)
      );
      INSERT INTO site_versions (site_id, valid_from, changed_by, doc) SELECT id, 0, NULL, doc FROM sites;
      CREATE TABLE engineer_versions (
        engineer_id TEXT COLLATE "C" NOT NULL, valid_from BIGINT NOT NULL, changed_by TEXT, doc JSON NOT NULL,
        PRIMARY KEY (engineer_id, valid_from)
      );
      INSERT INTO engineer_versions (engineer_id, valid_from, changed_by, doc)
        SELECT id, 0, NULL, doc FROM engineers;
    `,
  },
  {
    version: 5,
    name: "visit changes: cancellation and an audit trail",
    sql: `
      ALTER TABLE visits ADD COLUMN cancelled_at BIGINT;
      ALTER TABLE visits ADD COLUMN cancel_reason TEXT;
      CREATE TABLE visit_changes (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        visit_id TEXT COLLATE "C" NOT NULL,
        at BIGINT NOT NULL,
        changed_by TEXT,
        kind TEXT NOT NULL,
        note TEXT,
        before JSON,
        after JSON NOT NULL
      );
      CREATE INDEX visit_changes_visit ON visit_changes (visit_id, seq);
    `,
  },
  {
    version: 6,
    name: "a note on an alarm acknowledgement",
    sql: `
      ALTER TABLE alarm_acks ADD COLUMN note TEXT;
    `,
  },
  {
    version: 7,
    name: "notifications: the outbox, webhooks, roll-calls; a badge's battery",
    sql: `
      CREATE TABLE outbox (
        id TEXT COLLATE "C" PRIMARY KEY,
        key TEXT COLLATE "C" NOT NULL UNIQUE,
        type TEXT NOT NULL,
        at BIGINT NOT NULL,
        site_id TEXT COLLATE "C",
        visit_id TEXT COLLATE "C",
        channel TEXT NOT NULL,
        target TEXT NOT NULL,
        recipient TEXT,
        body TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts BIGINT NOT NULL,
        next_at BIGINT,
        last_error TEXT,
        created_at BIGINT NOT NULL,
        delivered_at BIGINT
      );
      CREATE INDEX outbox_due ON outbox (status, next_at);
      CREATE INDEX outbox_visit ON outbox (visit_id, created_at);
      CREATE TABLE webhooks (
        id TEXT COLLATE "C" PRIMARY KEY,
        url TEXT NOT NULL,
        events JSON NOT NULL,
        sealed_secret TEXT NOT NULL,
        site_id TEXT COLLATE "C",
        created_at BIGINT NOT NULL
      );
      CREATE TABLE rollcalls (
        id TEXT COLLATE "C" PRIMARY KEY,
        site_id TEXT COLLATE "C" NOT NULL,
        kind TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        started_by TEXT NOT NULL,
        ended_at BIGINT,
        people JSON NOT NULL
      );
      CREATE INDEX rollcalls_site ON rollcalls (site_id, started_at);
      ALTER TABLE devices ADD COLUMN battery BIGINT;
    `,
  },
  {
    version: 8,
    name: "a badge frame kept with its event; the site-to-central uplink's cursor",
    sql: `
      ALTER TABLE events ADD COLUMN frame TEXT;
      CREATE TABLE uplink_cursors (
        name TEXT COLLATE "C" PRIMARY KEY,
        seq BIGINT NOT NULL
      );
    `,
  },
];
