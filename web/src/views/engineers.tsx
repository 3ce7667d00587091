/** Engineers: name, company and certificates with their expiry; admins create and edit (each save a version). */
import { useState } from "preact/hooks";
import type { Certificate, Engineer } from "../api.js";
import { errorText, post, put, reloadCatalog } from "../data.js";
import { fill, localToday } from "../i18n.js";
import { isAdmin, useApp, useT } from "../store.js";
import { Field, Result } from "../ui/form.js";

const soon = (day: string, days: number) =>
  new Date(Date.parse(`${day}T12:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

export function certificateState(c: Certificate, today = localToday()): "expired" | "expiresSoon" | "valid" {
  if (c.validUntil < today) return "expired";
  return c.validUntil <= soon(today, 30) ? "expiresSoon" : "valid";
}

function EngineerForm({ engineer, onDone }: { engineer: Engineer | null; onDone: (text: string) => void }) {
  const t = useT();
  const [certs, setCerts] = useState<Certificate[]>(
    engineer?.certificates ?? [{ kind: "safety_training", validUntil: soon(localToday(), 365) }],
  );
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const setCert = (i: number, patch: Partial<Certificate>) =>
    setCerts(certs.map((c, j) => (i === j ? { ...c, ...patch } : c)));
  return (
    <form
      id="engineer-form"
      class="grid-form panel"
      aria-label={engineer ? fill(t.engineers.edit, { id: engineer.id }) : t.engineers.new}
      onSubmit={async (e) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget);
        const doc = {
          name: String(f.get("name") ?? "").trim(),
          company: String(f.get("company") ?? "").trim(),
          certificates: certs.map((c) => ({
            kind: c.kind.trim(),
            ...(c.number?.trim() ? { number: c.number.trim() } : {}),
            validUntil: c.validUntil,
          })),
        };
        try {
          if (engineer) await put(`/api/v1/engineers/${encodeURIComponent(engineer.id)}`, doc);
          else await post("/api/v1/engineers", { id: String(f.get("id") ?? "").trim(), ...doc });
          await reloadCatalog();
          onDone(
            fill(engineer ? t.engineers.updated : t.engineers.created, {
              id: engineer?.id ?? String(f.get("id")),
            }),
          );
        } catch (err) {
          setResult({ ok: false, text: errorText(err) });
        }
      }}
    >
      <h2 class="wide">{engineer ? fill(t.engineers.edit, { id: engineer.id }) : t.engineers.new}</h2>
      {!engineer && (
        <Field label={t.engineers.id}>
          <input name="id" required pattern="[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}" />
        </Field>
      )}
      <Field label={t.engineers.name}>
        <input name="name" required maxLength={200} defaultValue={engineer?.name ?? ""} />
      </Field>
      <Field label={t.engineers.company}>
        <input name="company" required maxLength={200} defaultValue={engineer?.company ?? ""} />
      </Field>
      <fieldset class="wide certs">
        <legend>{t.engineers.certificates}</legend>
        {certs.map((c, i) => (
          <div class="cert-row" key={i}>
            <Field label={t.engineers.kind}>
              <input
                value={c.kind}
                required
                onInput={(e) => setCert(i, { kind: (e.target as HTMLInputElement).value })}
              />
            </Field>
            <Field label={`${t.engineers.number} (${t.optional})`}>
              <input
                value={c.number ?? ""}
                onInput={(e) => setCert(i, { number: (e.target as HTMLInputElement).value })}
              />
            </Field>
            <Field label={t.engineers.validUntil}>
              <input
                type="date"
                value={c.validUntil}
                required
                onInput={(e) => setCert(i, { validUntil: (e.target as HTMLInputElement).value })}
              />
            </Field>
            <button type="button" class="link" onClick={() => setCerts(certs.filter((_, j) => j !== i))}>
              {t.engineers.remove}
            </button>
          </div>
        ))}
        <button
          type="button"
          id="add-cert"
          onClick={() => setCerts([...certs, { kind: "", validUntil: localToday() }])}
        >
          {t.engineers.addCertificate}
        </button>
      </fieldset>
      <div class="wide buttons">
        <button type="submit">{t.save}</button>
      </div>
      <Result result={result} id="engineer-result" />
    </form>
  );
}

export function EngineersView() {
  const t = useT();
  const engineers = useApp((s) => s.engineers);
  const admin = useApp(isAdmin);
  const [editing, setEditing] = useState<Engineer | "new" | null>(null);
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | null>(null);
  return (
    <section class="manage">
      <div class="toolbar">
        <h1>{t.engineers.title}</h1>
        {admin && (
          <button type="button" id="new-engineer" onClick={() => setEditing("new")}>
            {t.engineers.new}
          </button>
        )}
      </div>
      <Result result={notice} id="engineers-notice" />
      {editing && (
        <EngineerForm
          key={editing === "new" ? "new" : editing.id}
          engineer={editing === "new" ? null : editing}
          onDone={(text) => {
            setEditing(null);
            setNotice({ ok: true, text });
          }}
        />
      )}
      <ul class="cards">
        {engineers.map((e) => (
          <li key={e.id} class="card" data-engineer={e.id}>
            <h2>
              {e.name} <small>{e.id}</small>
            </h2>
            <p>{e.company}</p>
            <ul class="certs-list">
              {e.certificates.map((c) => {
                const st = certificateState(c);
                return (
                  <li key={`${c.kind}-${c.validUntil}`} class={`cert ${st}`}>
                    {c.kind}
                    {c.number ? ` · ${c.number}` : ""} · {t.engineers.validUntil} {c.validUntil} ·{" "}
                    <strong>{t.engineers[st]}</strong>
                  </li>
                );
              })}
            </ul>
            {admin && (
              <button type="button" data-edit-engineer={e.id} onClick={() => setEditing(e)}>
                {fill(t.engineers.edit, { id: e.id })}
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
