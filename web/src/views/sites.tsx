/**
 * Sites: time zone, required PPE, the clean-up checklist, required certificates and the policy,
 * working days, holidays and the at-risk lead time. Admins create and edit (each save a version).
 */
import { useState } from "preact/hooks";
import { CLEANUP_ITEMS, PPE_ITEMS } from "../../../protocol/browser.js";
import type { Site } from "../api.js";
import { errorText, post, put, reloadCatalog } from "../data.js";
import { fill, word } from "../i18n.js";
import { isAdmin, useApp, useT } from "../store.js";
import { Checks, Field, Result } from "../ui/form.js";

const ZONES: string[] = (() => {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return ["Asia/Shanghai", "UTC"];
  }
})();

function SiteForm({ site, onDone }: { site: Site | null; onDone: (text: string) => void }) {
  const t = useT();
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const s: Site = site ?? {
    id: "",
    name: "",
    timeZone: "Asia/Shanghai",
    requiredPpe: ["helmet", "safety_shoes"],
    cleanupChecklist: [...CLEANUP_ITEMS],
    requiredCertificates: ["safety_training"],
    certificatePolicy: "warn",
    workingDays: [1, 2, 3, 4, 5],
    holidays: [],
    atRiskMinutes: 15,
  };
  return (
    <form
      id="site-form"
      class="grid-form panel"
      aria-label={site ? fill(t.sites.edit, { id: site.id }) : t.sites.new}
      onSubmit={async (e) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget);
        const list = (name: string) => f.getAll(name).map(String);
        const doc = {
          name: String(f.get("name") ?? "").trim(),
          timeZone: String(f.get("timeZone") ?? "").trim(),
          requiredPpe: list("requiredPpe"),
          cleanupChecklist: list("cleanupChecklist"),
          requiredCertificates: String(f.get("requiredCertificates") ?? "")
            .split(/[,，\s]+/)
            .filter(Boolean),
          certificatePolicy: String(f.get("certificatePolicy")),
          workingDays: list("workingDays").map(Number),
          holidays: String(f.get("holidays") ?? "")
            .split(/\s+/)
            .filter(Boolean),
          atRiskMinutes: Number(f.get("atRiskMinutes")),
        };
        try {
          if (site) await put(`/api/v1/sites/${encodeURIComponent(site.id)}`, doc);
          else await post("/api/v1/sites", { id: String(f.get("id") ?? "").trim(), ...doc });
          await reloadCatalog();
          onDone(fill(site ? t.sites.updated : t.sites.created, { id: site?.id ?? String(f.get("id")) }));
        } catch (err) {
          setResult({ ok: false, text: errorText(err) });
        }
      }}
    >
      <h2 class="wide">{site ? fill(t.sites.edit, { id: site.id }) : t.sites.new}</h2>
      {!site && (
        <Field label={t.sites.id}>
          <input name="id" required pattern="[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}" />
        </Field>
      )}
      <Field label={t.sites.name}>
        <input name="name" required maxLength={200} defaultValue={s.name} />
      </Field>
      <Field label={t.sites.timeZone}>
        <input name="timeZone" required list="zones" defaultValue={s.timeZone} />
      </Field>
      <datalist id="zones">
        {ZONES.map((z) => (
          <option key={z} value={z} />
        ))}
      </datalist>
      <Checks
        legend={t.sites.requiredPpe}
        name="requiredPpe"
        options={PPE_ITEMS.map((i) => [i, word(t.ppe, i)])}
        checked={s.requiredPpe}
      />
      <Checks
        legend={t.sites.cleanup}
        name="cleanupChecklist"
        options={CLEANUP_ITEMS.map((i) => [i, word(t.cleanupItems, i)])}
        checked={s.cleanupChecklist}
      />
      <Field label={`${t.sites.certificates} (${t.sites.certificatesHint})`} wide>
        <input name="requiredCertificates" defaultValue={s.requiredCertificates.join(", ")} />
      </Field>
      <fieldset class="checks wide">
        <legend>{t.sites.policy}</legend>
        {(["warn", "refuse"] as const).map((p) => (
          <label key={p} class="check">
            <input
              type="radio"
              name="certificatePolicy"
              value={p}
              defaultChecked={s.certificatePolicy === p}
            />
            {t.sites[p]}
          </label>
        ))}
      </fieldset>
      <Checks
        legend={t.sites.workingDays}
        name="workingDays"
        options={t.weekdays.map((d, i) => [String(i + 1), d])}
        checked={s.workingDays.map(String)}
      />
      <Field label={`${t.sites.holidays} (${t.sites.holidaysHint})`}>
        <textarea name="holidays" rows={3} defaultValue={s.holidays.join("\n")} />
      </Field>
      <Field label={t.sites.atRisk}>
        <input
          name="atRiskMinutes"
          type="number"
          min={0}
          max={1440}
          required
          defaultValue={String(s.atRiskMinutes)}
        />
      </Field>
      <div class="wide buttons">
        <button type="submit">{t.save}</button>
      </div>
      <Result result={result} id="site-result" />
    </form>
  );
}

export function SitesView() {
  const t = useT();
  const sites = useApp((s) => s.sites);
  const admin = useApp(isAdmin);
  const [editing, setEditing] = useState<Site | "new" | null>(null);
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | null>(null);
  return (
    <section class="manage">
      <div class="toolbar">
        <h1>{t.sites.title}</h1>
        {admin && (
          <button type="button" id="new-site" onClick={() => setEditing("new")}>
            {t.sites.new}
          </button>
        )}
      </div>
      <Result result={notice} id="sites-notice" />
      {editing && (
        <SiteForm
          key={editing === "new" ? "new" : editing.id}
          site={editing === "new" ? null : editing}
          onDone={(text) => {
            setEditing(null);
            setNotice({ ok: true, text });
          }}
        />
      )}
      <ul class="cards">
        {sites.map((s) => (
          <li key={s.id} class="card" data-site={s.id}>
            <h2>
              {s.name} <small>{s.id}</small>
            </h2>
            <dl class="facts">
              <dt>{t.sites.timeZone}</dt>
              <dd>{s.timeZone}</dd>
              <dt>{t.sites.requiredPpe}</dt>
              <dd>{s.requiredPpe.map((i) => word(t.ppe, i)).join(t.listSep) || t.none}</dd>
              <dt>{t.sites.cleanup}</dt>
              <dd>{s.cleanupChecklist.map((i) => word(t.cleanupItems, i)).join(t.listSep)}</dd>
              <dt>{t.sites.certificates}</dt>
              <dd>
                {s.requiredCertificates.join(", ") || t.none} · {t.sites[s.certificatePolicy]}
              </dd>
              <dt>{t.sites.workingDays}</dt>
              <dd>{s.workingDays.map((d) => t.weekdays[d - 1]).join(" ")}</dd>
              <dt>{t.sites.holidays}</dt>
              <dd>{s.holidays.join(", ") || t.none}</dd>
            </dl>
            {admin && (
              <button type="button" data-edit-site={s.id} onClick={() => setEditing(s)}>
                {fill(t.sites.edit, { id: s.id })}
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
