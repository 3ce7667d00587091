/**
 * The supervisor's and dispatcher's web app (Preact): sign-in, the header (navigation, the summary
 * across sites, the live state), the alarm bar that stays loud until every alarm is acknowledged,
 * and the screen the address names.
 */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "./api.js";
import { connect, errorText, loadBase, signOut } from "./data.js";
import { dictionaries, type Lang, saveLang } from "./i18n.js";
import { href, useRoute } from "./router.js";
import { type AppState, getState, isAdmin, update, useApp, useT } from "./store.js";
import { Summary } from "./summary.js";
import { AlarmBar, useAlarmSound } from "./views/alarm-bar.js";
import { AlarmsView } from "./views/alarms.js";
import { BoardView } from "./views/board.js";
import { DevicesView } from "./views/devices.js";
import { DispatchView } from "./views/dispatch.js";
import { EngineersView } from "./views/engineers.js";
import { NotificationsView } from "./views/notifications.js";
import { RangeView } from "./views/range.js";
import { ReportsView } from "./views/reports.js";
import { PrintableRollCall, RollCallView } from "./views/rollcall.js";
import { SitesView } from "./views/sites.js";
import { TokensView } from "./views/tokens.js";
import { VisitView } from "./views/visit.js";
import { PrintableReport } from "./views/visit-report.js";

function LangSwitch() {
  const t = useT();
  const lang = useApp((s) => s.lang);
  return (
    <label class="lang">
      <span>{t.language}</span>
      <select
        id="lang"
        value={lang}
        onChange={(e) => {
          const next = (e.target as HTMLSelectElement).value as Lang;
          saveLang(next);
          update({ lang: next });
        }}
      >
        <option value="zh-CN">中文</option>
        <option value="en">English</option>
      </select>
    </label>
  );
}

async function start(token: string): Promise<void> {
  update({ token, error: "" });
  try {
    await loadBase();
  } catch (e) {
    const refused = e instanceof ApiError && (e.status === 401 || e.status === 403);
    const t = dictionaries[getState().lang];
    signOut(refused ? (e.status === 403 ? t.wrongRole : t.badToken) : errorText(e));
    return;
  }
  localStorage.setItem("onsite.token", token);
  connect(() => void loadBase().catch(() => {}));
}

function Login() {
  const t = useT();
  const error = useApp((s) => s.error);
  const [busy, setBusy] = useState(false);
  return (
    <main class="login" id="main">
      <h1>onsite</h1>
      <form
        id="login"
        aria-label={t.login}
        onSubmit={async (e) => {
          e.preventDefault();
          const value = String(new FormData(e.currentTarget).get("token") ?? "").trim();
          setBusy(true);
          await start(value);
          setBusy(false);
        }}
      >
        <label for="token">{t.token}</label>
        <input id="token" name="token" type="password" autocomplete="off" required />
        <button type="submit" disabled={busy}>
          {t.login}
        </button>
        {error && (
          <p role="alert" class="error" id="login-error">
            {error}
          </p>
        )}
      </form>
      <LangSwitch />
    </main>
  );
}

const NAV: Array<{ name: keyof ReturnType<typeof useT>["nav"]; allowed: (s: AppState) => boolean }> = [
  { name: "board", allowed: () => true },
  { name: "range", allowed: () => true },
  { name: "alarms", allowed: () => true },
  { name: "rollcall", allowed: () => true },
  { name: "notifications", allowed: () => true },
  { name: "dispatch", allowed: (s) => s.me?.role === "admin" || s.me?.role === "dispatcher" },
  { name: "reports", allowed: () => true },
  { name: "sites", allowed: () => true },
  { name: "engineers", allowed: () => true },
  { name: "devices", allowed: () => true },
  { name: "tokens", allowed: isAdmin },
];

function Header({ current }: { current: string }) {
  const t = useT();
  const state = useApp((s) => s);
  const ble = state.health?.parts.ble;
  return (
    <header class="top">
      <div class="bar">
        <a class="brand" href={href("board")}>
          onsite
        </a>
        <span id="status" class={state.live ? "status live" : "status down"} aria-live="polite">
          {state.live ? t.live : t.reconnecting}
        </span>
        {ble && !ble.ok && (
          <span id="radio" class="status down" title={ble.detail ?? ""}>
            📡 {ble.detail ?? ""}
          </span>
        )}
        <span class="me">
          {state.me ? `${state.me.name} · ${t.roles[state.me.role] ?? state.me.role}` : ""}
        </span>
        <LangSwitch />
        <button type="button" id="signout" onClick={() => signOut()}>
          {t.signOut}
        </button>
      </div>
      <nav aria-label={t.menu}>
        {NAV.filter((n) => n.allowed(state)).map((n) => (
          <a
            key={n.name}
            class={current === n.name || (current === "visit" && n.name === "board") ? "tab active" : "tab"}
            aria-current={current === n.name ? "page" : undefined}
            href={href(n.name)}
            data-view={n.name}
          >
            {t.nav[n.name]}
          </a>
        ))}
      </nav>
      <Summary />
    </header>
  );
}

function Screen({ name, id, sub, query }: ReturnType<typeof useRoute>) {
  switch (name) {
    case "notifications":
      return <NotificationsView query={query} />;
    case "rollcall":
      return <RollCallView siteId={id} rollCallId={sub} />;
    case "visit":
      return <VisitView id={id} />;
    case "range":
      return <RangeView query={query} />;
    case "alarms":
      return <AlarmsView />;
    case "dispatch":
      return <DispatchView />;
    case "reports":
      return <ReportsView />;
    case "sites":
      return <SitesView />;
    case "engineers":
      return <EngineersView />;
    case "devices":
      return <DevicesView />;
    case "tokens":
      return <TokensView />;
    default:
      return <BoardView query={query} />;
  }
}

function App() {
  const route = useRoute();
  const token = useApp((s) => s.token);
  const me = useApp((s) => s.me);
  const lang = useApp((s) => s.lang);
  const t = useT();
  useAlarmSound();
  useEffect(() => {
    document.documentElement.lang = lang;
    const screen = route.name === "rollcall-print" ? "rollcall" : route.name;
    document.title = `${t.title} · ${t.nav[screen as keyof typeof t.nav] ?? t.nav.board}`;
  }, [lang, route.name, t]);
  if (!token) return <Login />;
  if (!me) return <p class="loading">{t.loading}</p>;
  if (route.name === "report") return <PrintableReport id={route.id} />;
  if (route.name === "rollcall-print") return <PrintableRollCall siteId={route.id} rollCallId={route.sub} />;
  return (
    <>
      <a class="skip" href="#main">
        {t.skip}
      </a>
      <Header current={route.name} />
      <AlarmBar />
      <main id="main" tabIndex={-1}>
        <Screen {...route} />
      </main>
    </>
  );
}

const saved = getState().token;
render(<App />, document.getElementById("app") as HTMLElement);
if (saved) void start(saved);
