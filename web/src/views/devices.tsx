/**
 * Devices: badges (an engineer's), kiosks and gateways (a site's), each with its health (online,
 * stale, offline, never heard), when it was last heard and a badge's battery, fetched again every
 * few seconds while the screen is open (the live stream does not carry device health). Admins
 * provision (the one-time credentials shown once, as text and as a QR code for the device set-up)
 * and revoke.
 */
import { useState } from "preact/hooks";
import { DEVICE_HEALTH } from "../../../protocol/browser.js";
import type { DeviceHealth, ProvisionedDevice, PublicDevice } from "../api.js";
import { errorText, get, post } from "../data.js";
import { engineerLabel } from "../format.js";
import {
  browserZone,
  type Dict,
  fill,
  formatAgo,
  formatDateTime,
  type Lang,
  mainZone,
  word,
} from "../i18n.js";
import { isAdmin, useApp, useT, zoneOf } from "../store.js";
import { Field, Result } from "../ui/form.js";
import { useNow, usePoll } from "../ui/poll.js";
import { Qr } from "../ui/qr.js";

/** How often the screen asks for the devices' health again while it is open. */
export const DEVICE_REFRESH_MS = 10_000;

/** When a device was last heard: how long ago, and the time with seconds (the site's zone for a kiosk or gateway). */
export function LastSeen({
  at,
  zone,
  now,
  lang,
  t,
}: {
  at: number | null;
  zone: string;
  now: number;
  lang: Lang;
  t: Dict;
}) {
  if (at === null) return <span class="muted">{t.devices.never}</span>;
  const exact = formatDateTime(at, zone, lang);
  return (
    <span class="last-seen">
      <span class="ago">{formatAgo(at, now, lang)}</span>{" "}
      <time class="muted" dateTime={new Date(at).toISOString()}>
        {exact}
      </time>
    </span>
  );
}

export function HealthBadge({ health, t }: { health: DeviceHealth["health"] | null; t: Dict }) {
  if (health === null) return <span class="muted">—</span>;
  return <span class={`health health-${health}`}>{word(t.health, health)}</span>;
}

export function Battery({ level, t }: { level: number | null; t: Dict }) {
  if (level === null) return <span class="muted">—</span>;
  const low = level <= 20;
  return (
    <span class={low ? "battery low" : "battery"}>
      <span class="battery-bar" aria-hidden="true">
        <span style={{ width: `${Math.max(0, Math.min(100, level))}%` }} />
      </span>{" "}
      {level}%{low ? ` · ${t.devices.batteryLow}` : ""}
    </span>
  );
}

/** What a device set-up reads from the QR code: everything it needs to connect, versioned. */
export const setupPayload = (p: ProvisionedDevice) =>
  JSON.stringify({
    v: 1,
    id: p.device.id,
    kind: p.device.kind,
    mqtt: p.mqtt,
    password: p.password,
    ...(p.key ? { key: p.key } : {}),
  });

export function DevicesView() {
  const t = useT();
  const engineers = useApp((s) => s.engineers);
  const sites = useApp((s) => s.sites);
  const lang = useApp((s) => s.lang);
  const admin = useApp(isAdmin);
  const state = useApp((s) => s);
  const [devices, setDevices] = useState<PublicDevice[] | null>(null);
  const [health, setHealth] = useState<DeviceHealth[] | null>(null);
  const [loadedAt, setLoadedAt] = useState<number | null>(null);
  const [kind, setKind] = useState<"badge" | "kiosk" | "gateway">("badge");
  const [made, setMade] = useState<ProvisionedDevice | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const now = useNow(5000);
  const reload = usePoll(
    async () => {
      try {
        const [h, d] = await Promise.all([
          get<DeviceHealth[]>("/api/v1/devices/health"),
          admin ? get<PublicDevice[]>("/api/v1/devices") : Promise.resolve(null),
        ]);
        setHealth(h);
        setDevices(d);
        setLoadedAt(Date.now());
      } catch (e) {
        setResult({ ok: false, text: errorText(e) });
      }
    },
    DEVICE_REFRESH_MS,
    [admin],
  );
  const when = (ms: number | null) => (ms === null ? t.devices.never : formatDateTime(ms, browserZone, lang));
  const healthOf = new Map((health ?? []).map((h) => [h.id, h]));
  // Admins see every device (revoked ones too); others what is in service, from the health list.
  const rows: Array<Pick<PublicDevice, "id" | "kind" | "engineerId" | "siteId"> & Partial<PublicDevice>> =
    devices ?? health ?? [];
  const counts = DEVICE_HEALTH.map((h) => [h, (health ?? []).filter((d) => d.health === h).length] as const);
  // A kiosk's or gateway's times in its site's zone; a badge's (it travels) where most sites are.
  const zone = mainZone(state.sites);
  const zoneFor = (siteId: string | null) => (siteId ? zoneOf(state, siteId) : zone);
  return (
    <section class="manage">
      <h1>{t.devices.title}</h1>
      <section class="panel device-health" aria-labelledby="health-title">
        <h2 id="health-title">{t.devices.healthTitle}</h2>
        <ul class="health-counts" id="health-counts">
          {counts.map(([h, n]) => (
            <li key={h} data-health={h}>
              <HealthBadge health={h} t={t} /> <strong>{n}</strong>
            </li>
          ))}
        </ul>
        <p class="hint" id="health-refreshed" aria-live="off">
          {loadedAt === null
            ? t.loading
            : fill(t.devices.refreshed, {
                at: formatDateTime(loadedAt, zone, lang),
                s: DEVICE_REFRESH_MS / 1000,
              })}
        </p>
      </section>
      {admin && (
        <form
          id="provision"
          class="grid-form panel"
          onSubmit={async (e) => {
            e.preventDefault();
            const form = e.currentTarget;
            const f = new FormData(form);
            const str = (k: string) => String(f.get(k) ?? "").trim();
            const body = {
              id: str("id"),
              kind,
              ...(kind === "badge" ? { engineerId: str("engineerId") } : { siteId: str("siteId") }),
              ...(kind === "badge" && str("rfidTag") ? { rfidTag: str("rfidTag").toUpperCase() } : {}),
              ...(kind === "badge" && str("badgeNo") ? { badgeNo: Number(str("badgeNo")) } : {}),
            };
            try {
              const p = await post<ProvisionedDevice>("/api/v1/devices", body);
              setMade(p);
              setResult({ ok: true, text: fill(t.devices.provisioned, { id: p.device.id }) });
              form.reset();
              reload();
            } catch (err) {
              setMade(null);
              setResult({ ok: false, text: errorText(err) });
            }
          }}
        >
          <h2 class="wide">{t.devices.provision}</h2>
          <Field label={t.devices.kind}>
            <select
              name="kind"
              value={kind}
              onChange={(e) => setKind((e.target as HTMLSelectElement).value as typeof kind)}
            >
              {(["badge", "kiosk", "gateway"] as const).map((k) => (
                <option key={k} value={k}>
                  {word(t.deviceKinds, k)}
                </option>
              ))}
            </select>
          </Field>
          <Field label={t.devices.id}>
            <input name="id" required pattern="[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}" />
          </Field>
          {kind === "badge" ? (
            <>
              <Field label={t.devices.engineer}>
                <select name="engineerId" required>
                  {engineers.map((e) => (
                    <option key={e.id} value={e.id}>
                      {engineerLabel(engineers, e.id)}
                    </option>
                  ))}
                </select>
              </Field>
              <Field label={`${t.devices.rfidTag} (${t.optional})`}>
                <input name="rfidTag" pattern="[0-9A-Fa-f]{10}" />
              </Field>
              <Field label={`${t.devices.badgeNo} (${t.optional})`}>
                <input name="badgeNo" type="number" min={1} max={4294967295} />
              </Field>
            </>
          ) : (
            <Field label={t.devices.site}>
              <select name="siteId" required>
                {sites.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                  </option>
                ))}
              </select>
            </Field>
          )}
          <div class="wide buttons">
            <button type="submit">{t.devices.provision}</button>
          </div>
        </form>
      )}
      <Result result={result} id="device-result" />
      {made && (
        <section class="secret panel" id="credentials" aria-label={t.devices.credentials}>
          <h2>{t.devices.credentials}</h2>
          <div class="secret-body">
            <dl class="facts">
              <dt>{t.devices.id}</dt>
              <dd>
                <code>{made.device.id}</code>
              </dd>
              <dt>MQTT</dt>
              <dd>
                <code>
                  {made.mqtt.host}:{made.mqtt.port}
                </code>
              </dd>
              <dt>{t.devices.password}</dt>
              <dd>
                <code id="device-password">{made.password}</code>
              </dd>
              {made.key && (
                <>
                  <dt>{t.devices.key}</dt>
                  <dd>
                    <code id="device-key">{made.key}</code>
                  </dd>
                </>
              )}
            </dl>
            <figure>
              <Qr text={setupPayload(made)} label={t.devices.qrHint} />
              <figcaption>{t.devices.qrHint}</figcaption>
            </figure>
          </div>
          <button type="button" onClick={() => setMade(null)}>
            {t.close}
          </button>
        </section>
      )}
      <div class="table-wrap">
        <table class="list cards-on-phone" id="device-list">
          <thead>
            <tr>
              <th scope="col">{t.devices.id}</th>
              <th scope="col">{t.devices.kind}</th>
              <th scope="col">
                {t.board.engineer} / {t.board.site}
              </th>
              <th scope="col">{t.devices.health}</th>
              <th scope="col">{t.devices.lastSeen}</th>
              <th scope="col">{t.devices.battery}</th>
              {admin && <th scope="col">{t.devices.created}</th>}
              {admin && (
                <th scope="col">
                  <span class="sr-only">{t.devices.revoke}</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => {
              const h = healthOf.get(d.id) ?? null;
              return (
                <tr
                  key={d.id}
                  data-device={d.id}
                  data-health={h?.health ?? ""}
                  class={d.revokedAt ? "revoked" : ""}
                >
                  <td data-label={t.devices.id}>
                    <code>{d.id}</code>
                  </td>
                  <td data-label={t.devices.kind}>{word(t.deviceKinds, d.kind)}</td>
                  <td data-label={`${t.board.engineer} / ${t.board.site}`}>
                    {d.engineerId
                      ? engineerLabel(engineers, d.engineerId)
                      : (sites.find((s) => s.id === d.siteId)?.name ?? d.siteId ?? "")}
                  </td>
                  <td class="health-cell" data-label={t.devices.health}>
                    <HealthBadge health={d.revokedAt ? null : (h?.health ?? null)} t={t} />
                  </td>
                  <td class="seen" data-label={t.devices.lastSeen}>
                    <LastSeen
                      at={h?.lastSeenAt ?? d.lastSeenAt ?? null}
                      zone={zoneFor(d.siteId)}
                      now={now}
                      lang={lang}
                      t={t}
                    />
                  </td>
                  <td class="battery-cell" data-label={t.devices.battery}>
                    {d.kind === "badge" ? (
                      <Battery level={h?.battery ?? null} t={t} />
                    ) : (
                      <span class="muted">—</span>
                    )}
                  </td>
                  {admin && (
                    <td data-label={t.devices.created}>
                      {d.createdAt === undefined ? "" : when(d.createdAt)}
                    </td>
                  )}
                  {admin && (
                    <td data-label={t.devices.revoke}>
                      {d.revokedAt ? (
                        fill(t.devices.revoked, { at: when(d.revokedAt) })
                      ) : (
                        <button
                          type="button"
                          class="danger"
                          data-revoke={d.id}
                          onClick={async () => {
                            if (!confirm(fill(t.devices.confirmRevoke, { id: d.id }))) return;
                            try {
                              await post(`/api/v1/devices/${encodeURIComponent(d.id)}/revoke`, {});
                              reload();
                            } catch (err) {
                              setResult({ ok: false, text: errorText(err) });
                            }
                          }}
                        >
                          {t.devices.revoke}
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
