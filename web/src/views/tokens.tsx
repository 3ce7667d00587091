/**
 * API tokens: staff tokens and kiosk tokens, created (the secret shown once), listed, revoked. A
 * kiosk token comes with the URL, and its QR code, that opens that site's kiosk screen signed in.
 */
import { useEffect, useState } from "preact/hooks";
import type { CreatedToken, PublicToken, Role } from "../api.js";
import { errorText, get, post } from "../data.js";
import { browserZone, fill, formatDateTime, word } from "../i18n.js";
import { useApp, useT } from "../store.js";
import { Field, Result } from "../ui/form.js";
import { Qr } from "../ui/qr.js";

/** The kiosk screen's address with its token in the fragment (never sent to a server; the screen keeps it). */
export const kioskUrl = (siteId: string, token: string) =>
  `${location.origin}/kiosk/${encodeURIComponent(siteId)}#token=${encodeURIComponent(token)}`;

export function TokensView() {
  const t = useT();
  const sites = useApp((s) => s.sites);
  const lang = useApp((s) => s.lang);
  const [tokens, setTokens] = useState<PublicToken[]>([]);
  const [role, setRole] = useState<Role>("dispatcher");
  const [made, setMade] = useState<CreatedToken | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const reload = () =>
    get<PublicToken[]>("/api/v1/tokens")
      .then(setTokens)
      .catch((e: unknown) => setResult({ ok: false, text: errorText(e) }));
  useEffect(() => void reload(), []);
  const when = (ms: number) => formatDateTime(ms, browserZone, lang);
  return (
    <section class="manage">
      <h1>{t.tokens.title}</h1>
      <form
        id="create-token"
        class="grid-form panel"
        onSubmit={async (e) => {
          e.preventDefault();
          const form = e.currentTarget;
          const f = new FormData(form);
          const body = {
            role,
            name: String(f.get("name") ?? "").trim(),
            ...(role === "kiosk" ? { siteId: String(f.get("siteId")) } : {}),
          };
          try {
            const made = await post<CreatedToken>("/api/v1/tokens", body);
            setMade(made);
            setResult({ ok: true, text: t.tokens.createdOnce });
            form.reset();
            void reload();
          } catch (err) {
            setResult({ ok: false, text: errorText(err) });
          }
        }}
      >
        <h2 class="wide">{t.tokens.create}</h2>
        <Field label={t.tokens.role}>
          <select
            name="role"
            value={role}
            onChange={(e) => setRole((e.target as HTMLSelectElement).value as Role)}
          >
            {(["dispatcher", "supervisor", "kiosk", "admin"] as const).map((r) => (
              <option key={r} value={r}>
                {word(t.roles, r)}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t.tokens.name}>
          <input name="name" required maxLength={100} />
        </Field>
        {role === "kiosk" && (
          <Field label={t.tokens.site}>
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
          <button type="submit">{t.tokens.create}</button>
        </div>
      </form>
      <Result result={result} id="token-result" />
      {made && (
        <section class="secret panel" id="new-token">
          <p>
            <code id="token-secret">{made.token}</code>
          </p>
          {made.role === "kiosk" && made.siteId && (
            <div class="secret-body">
              <p>
                {t.tokens.kioskUrl}
                <br />
                <a id="kiosk-url" href={kioskUrl(made.siteId, made.token)} target="_blank" rel="noopener">
                  {kioskUrl(made.siteId, made.token)}
                </a>
              </p>
              <Qr text={kioskUrl(made.siteId, made.token)} label={t.tokens.kioskUrl} />
            </div>
          )}
          <button type="button" onClick={() => setMade(null)}>
            {t.close}
          </button>
        </section>
      )}
      <div class="table-wrap">
        <table class="list cards-on-phone" id="token-list">
          <thead>
            <tr>
              <th scope="col">{t.tokens.name}</th>
              <th scope="col">{t.tokens.role}</th>
              <th scope="col">{t.board.site}</th>
              <th scope="col">{t.tokens.created}</th>
              <th scope="col">
                <span class="sr-only">{t.tokens.revoke}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tokens.map((k) => (
              <tr key={k.id} data-token={k.id} class={k.revokedAt ? "revoked" : ""}>
                <td data-label={t.tokens.name}>{k.name}</td>
                <td data-label={t.tokens.role}>{word(t.roles, k.role)}</td>
                <td data-label={t.board.site}>
                  {k.siteId ? (sites.find((s) => s.id === k.siteId)?.name ?? k.siteId) : "—"}
                </td>
                <td data-label={t.tokens.created}>{when(k.createdAt)}</td>
                <td data-label={t.tokens.revoke}>
                  {k.revokedAt ? (
                    fill(t.tokens.revoked, { at: when(k.revokedAt) })
                  ) : (
                    <button
                      type="button"
                      class="danger"
                      data-revoke-token={k.id}
                      onClick={async () => {
                        if (!confirm(fill(t.tokens.confirmRevoke, { name: k.name }))) return;
                        try {
                          await post(`/api/v1/tokens/${k.id}/revoke`, {});
                          void reload();
                        } catch (err) {
                          setResult({ ok: false, text: errorText(err) });
                        }
                      }}
                    >
                      {t.tokens.revoke}
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
