/** Dispatch: book a visit (site wall time), import visits from CSV with per-row errors. */
import { useState } from "preact/hooks";
import { errorText, post } from "../data.js";
import { engineerLabel } from "../format.js";
import { fill } from "../i18n.js";
import { visitHref } from "../router.js";
import { useApp, useT } from "../store.js";

export function DispatchView() {
  const t = useT();
  const sites = useApp((s) => s.sites);
  const engineers = useApp((s) => s.engineers);
  const [siteId, setSiteId] = useState(sites[0]?.id ?? "");
  const [created, setCreated] = useState<{ ok: boolean; text: string; id?: string } | null>(null);
  const [imported, setImported] = useState<{
    imported: string[];
    errors: Array<{ line: number; field: string; message: string }>;
  } | null>(null);
  const zone = sites.find((s) => s.id === siteId)?.timeZone ?? "UTC";
  return (
    <section class="dispatch">
      <h1>{t.nav.dispatch}</h1>
      <h2>{t.dispatch.create}</h2>
      <form
        id="create-visit"
        class="grid-form"
        onSubmit={async (e) => {
          e.preventDefault();
          const form = e.currentTarget;
          const f = new FormData(form);
          const id = String(f.get("id") ?? "").trim();
          try {
            const v = await post<{ id: string }>("/api/v1/visits", {
              ...(id ? { id } : {}),
              siteId: f.get("siteId"),
              engineerId: f.get("engineerId"),
              window: { from: f.get("from"), to: f.get("to") },
            });
            setCreated({ ok: true, text: fill(t.dispatch.created, { id: v.id }), id: v.id });
            form.reset();
          } catch (err) {
            setCreated({ ok: false, text: errorText(err) });
          }
        }}
      >
        <label>
          <span>{t.board.site}</span>
          <select
            name="siteId"
            required
            value={siteId}
            onChange={(e) => setSiteId((e.target as HTMLSelectElement).value)}
          >
            {sites.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t.board.engineer}</span>
          <select name="engineerId" required>
            {engineers.map((e) => (
              <option key={e.id} value={e.id}>
                {engineerLabel(engineers, e.id)}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t.visit.from}</span>
          <input type="datetime-local" name="from" required />
        </label>
        <label>
          <span>{t.visit.to}</span>
          <input type="datetime-local" name="to" required />
        </label>
        <label>
          <span>
            {t.dispatch.id} ({t.optional})
          </span>
          <input name="id" placeholder={t.dispatch.idHint} pattern="[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}" />
        </label>
        <p class="hint wide">{fill(t.dispatch.timesIn, { zone })}</p>
        <button type="submit">{t.dispatch.create}</button>
      </form>
      {created && (
        <p role={created.ok ? "status" : "alert"} class={created.ok ? "ok" : "error"} id="create-result">
          {created.id ? <a href={visitHref(created.id)}>{created.text}</a> : created.text}
        </p>
      )}
      <h2>{t.dispatch.importCsv}</h2>
      <form
        id="import-csv"
        class="grid-form"
        onSubmit={async (e) => {
          e.preventDefault();
          const text = String(new FormData(e.currentTarget).get("csv") ?? "");
          try {
            setImported(await post("/api/v1/visits/import", text, "text/csv"));
          } catch (err) {
            setImported({ imported: [], errors: [{ line: 0, field: "-", message: errorText(err) }] });
          }
        }}
      >
        <label class="wide">
          <span>{t.dispatch.importHint}</span>
          <textarea
            id="csv-text"
            name="csv"
            rows={6}
            required
            placeholder="id,site_id,engineer_id,date,from,to"
          />
        </label>
        <button type="submit">{t.dispatch.import}</button>
      </form>
      {imported && (
        <div id="dispatch-result" aria-live="polite">
          <p class="ok">{fill(t.dispatch.imported, { n: imported.imported.length })}</p>
          {imported.errors.length > 0 && (
            <table class="errors">
              <thead>
                <tr>
                  <th scope="col">{t.dispatch.line}</th>
                  <th scope="col">{t.dispatch.field}</th>
                  <th scope="col">{t.dispatch.problem}</th>
                </tr>
              </thead>
              <tbody>
                {imported.errors.map((x) => (
                  <tr key={`${x.line}-${x.field}`}>
                    <td>{x.line}</td>
                    <td>{x.field}</td>
                    <td>{x.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </section>
  );
}
