/**
 * Devices: badges (an engineer's), kiosks and gateways (a site's). Provisioning shows the one-time
 * credentials once, as text and as a QR code for the device set-up; a device can be revoked.
 */
import { useEffect, useState } from "preact/hooks";
import type { ProvisionedDevice, PublicDevice } from "../api.js";
import { errorText, get, post } from "../data.js";
import { engineerLabel } from "../format.js";
import { browserZone, fill, formatDateTime, word } from "../i18n.js";
import { useApp, useT } from "../store.js";
import { Field, Result } from "../ui/form.js";
import { Qr } from "../ui/qr.js";

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
  const [devices, setDevices] = useState<PublicDevice[]>([]);
  const [kind, setKind] = useState<"badge" | "kiosk" | "gateway">("badge");
  const [made, setMade] = useState<ProvisionedDevice | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const reload = () =>
    get<PublicDevice[]>("/api/v1/devices")
      .then(setDevices)
      .catch((e: unknown) => setResult({ ok: false, text: errorText(e) }));
  useEffect(() => void reload(), []);
  const when = (ms: number | null) => (ms === null ? t.devices.never : formatDateTime(ms, browserZone, lang));
  return (
    <section class="manage">
      <h1>{t.devices.title}</h1>
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
            void reload();
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
              <th scope="col">{t.devices.created}</th>
              <th scope="col">{t.devices.lastSeen}</th>
              <th scope="col">
                <span class="sr-only">{t.devices.revoke}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {devices.map((d) => (
              <tr key={d.id} data-device={d.id} class={d.revokedAt ? "revoked" : ""}>
                <td data-label={t.devices.id}>
                  <code>{d.id}</code>
                </td>
                <td data-label={t.devices.kind}>{word(t.deviceKinds, d.kind)}</td>
                <td data-label={`${t.board.engineer} / ${t.board.site}`}>
                  {d.engineerId
                    ? engineerLabel(engineers, d.engineerId)
                    : (sites.find((s) => s.id === d.siteId)?.name ?? d.siteId ?? "")}
                </td>
                <td data-label={t.devices.created}>{when(d.createdAt)}</td>
                <td data-label={t.devices.lastSeen}>{when(d.lastSeenAt)}</td>
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
                          void reload();
                        } catch (err) {
                          setResult({ ok: false, text: errorText(err) });
                        }
                      }}
                    >
                      {t.devices.revoke}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
