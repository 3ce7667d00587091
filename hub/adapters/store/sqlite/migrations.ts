/** Versioned schema migrations. Append only: a shipped migration is never edited. */
export const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: "initial",
    sql: `
      CREATE TABLE sites (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
      CREATE TABLE engineers (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
      CREATE TABLE visits (
        id TEXT PRIMARY KEY,
        site_id TEXT NOT NULL REFERENCES sites(id),
        engineer_id TEXT NOT NULL REFERENCES engineers(id),
        window_from INTEGER NOT NULL,
        window_to INTEGER NOT NULL
      );
      CREATE INDEX visits_site_window ON visits(site_id, window_from);
      CREATE INDEX visits_engineer_window ON visits(engineer_id, window_from);
      CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('badge','kiosk','gateway')),
        engineer_id TEXT REFERENCES engineers(id),
        site_id TEXT REFERENCES sites(id),
        badge_no INTEGER UNIQUE,
        rfid_tag TEXT UNIQUE,
        password_hash TEXT NOT NULL,
        sealed_key TEXT,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER,
        clock_offset_ms INTEGER NOT NULL DEFAULT 0,
        last_seen_at INTEGER,
        replay_highest INTEGER NOT NULL DEFAULT -1,
        replay_seen TEXT NOT NULL DEFAULT '0'
      );
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        device TEXT NOT NULL,
        counter INTEGER NOT NULL,
        type TEXT NOT NULL,
        visit_id TEXT,
        device_time INTEGER NOT NULL,
        hub_time INTEGER NOT NULL,
        clock_offset_ms INTEGER NOT NULL,
        source TEXT NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (device, counter)
      );
      CREATE INDEX events_visit ON events(visit_id, seq);
      CREATE TABLE views (
        visit_id TEXT PRIMARY KEY REFERENCES visits(id),
        doc TEXT NOT NULL,
        last_seq INTEGER NOT NULL,
        projected_at INTEGER NOT NULL
      );
      CREATE TABLE tokens (
        digest TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        name TEXT NOT NULL,
        site_id TEXT,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
      CREATE TABLE alarm_acks (
        visit_id TEXT NOT NULL,
        alarm_at INTEGER NOT NULL,
        by TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (visit_id, alarm_at)
      );
    `,
  },
  {
    version: 2,
    name: "presence sessions",
    sql: `
      CREATE TABLE presence (
        id TEXT PRIMARY KEY,
        badge TEXT NOT NULL,
        gateway TEXT NOT NULL,
        site_id TEXT,
        arrived_at INTEGER NOT NULL,
        last_heard_at INTEGER NOT NULL,
        departed_at INTEGER,
        detected_at INTEGER,
        sightings INTEGER NOT NULL,
        rssi TEXT NOT NULL,
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
      ALTER TABLE events ADD COLUMN subject TEXT;
      ALTER TABLE events ADD COLUMN eff_time INTEGER;
      UPDATE events SET eff_time = device_time + clock_offset_ms;
      UPDATE events SET subject = (SELECT engineer_id FROM visits WHERE visits.id = events.visit_id)
        WHERE visit_id IS NOT NULL;
      UPDATE events SET subject = json_extract(source, '$.engineerId')
        WHERE subject IS NULL AND json_extract(source, '$.kind') = 'badge';
      UPDATE events SET subject = json_extract(body, '$.engineer')
        WHERE subject IS NULL AND type = 'checkin_confirmed';
      UPDATE events SET subject = (SELECT engineer_id FROM devices d WHERE d.rfid_tag = json_extract(events.body, '$.tag'))
        WHERE subject IS NULL AND type = 'checkin_request';
      ALTER TABLE visits ADD COLUMN created_at INTEGER;
      ALTER TABLE events ADD COLUMN site_id TEXT;
      UPDATE events SET site_id = json_extract(source, '$.siteId') WHERE json_extract(source, '$.kind') = 'kiosk';
      CREATE INDEX events_subject_time ON events (subject, eff_time);
      CREATE INDEX events_site_time ON events (site_id, eff_time) WHERE subject IS NULL;
      UPDATE views SET doc = json_remove(doc, '$.timeline');
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO meta (key, value) SELECT 'projection_watermark', coalesce(
        (SELECT min(e.seq) - 1 FROM events e LEFT JOIN views w ON w.visit_id = e.visit_id
          WHERE e.visit_id IS NOT NULL AND e.seq > coalesce(w.last_seq, 0)),
        (SELECT max(seq) FROM events), 0);
    `,
  },
  {
    version: 4,
    name: "versions of sites and engineers (a visit is judged as of its own time)",
    sql: `
      CREATE TABLE site_versions (
        site_id TEXT NOT NULL, valid_from INTEGER NOT NULL, by TEXT, doc TEXT NOT NULL,
        PRIMARY KEY (site_id, valid_from)
      );
      INSERT INTO site_versions (site_id, valid_from, by, doc) SELECT id, 0, NULL, doc FROM sites;
      CREATE TABLE engineer_versions (
        engineer_id TEXT NOT NULL, valid_from INTEGER NOT NULL, by TEXT, doc TEXT NOT NULL,
        PRIMARY KEY (engineer_id, valid_from)
      );
      INSERT INTO engineer_versions (engineer_id, valid_from, by, doc) SELECT id, 0, NULL, doc FROM engineers;
    `,
  },
  {
    version: 5,
    name: "visit changes: cancellation and an audit trail",
    sql: `
      ALTER TABLE visits ADD COLUMN cancelled_at INTEGER;
      ALTER TABLE visits ADD COLUMN cancel_reason TEXT;
      CREATE TABLE visit_changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        visit_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        by TEXT,
        kind TEXT NOT NULL,
        note TEXT,
        before TEXT,
        after TEXT NOT NULL
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
        id TEXT PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        at INTEGER NOT NULL,
        site_id TEXT,
        visit_id TEXT,
        channel TEXT NOT NULL,
        target TEXT NOT NULL,
        recipient TEXT,
        body TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_at INTEGER,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        delivered_at INTEGER
      );
      CREATE INDEX outbox_due ON outbox (status, next_at);
      CREATE INDEX outbox_visit ON outbox (visit_id, created_at);
      CREATE TABLE webhooks (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        events TEXT NOT NULL,
        sealed_secret TEXT NOT NULL,
        site_id TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE rollcalls (
        id TEXT PRIMARY KEY,
        site_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        started_by TEXT NOT NULL,
        ended_at INTEGER,
        people TEXT NOT NULL
      );
      CREATE INDEX rollcalls_site ON rollcalls (site_id, started_at);
      ALTER TABLE devices ADD COLUMN battery INTEGER;
    `,
  },
  {
    version: 8,
    name: "a badge frame kept with its event; the site-to-central uplink's cursor",
    sql: `
      ALTER TABLE events ADD COLUMN frame TEXT;
      CREATE TABLE uplink_cursors (
        name TEXT PRIMARY KEY,
        seq INTEGER NOT NULL
      );
    `,
  },
];
