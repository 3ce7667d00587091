/**
 * The customer's touchscreen at the site (`/kiosk/<site>`, kiosk token): greet, show who is here,
 * confirm check-in, confirm completion with a rating, sign off the clean-up checklist item by item,
 * say goodbye. Polite wording (您好, 请, 谢谢, 请稍等, 再见); large touch targets; zh-CN by default.
 */
import { ApiError, api, type KioskState } from "./api.js";

const esc = (s: unknown): string =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

type Lang = "zh-CN" | "en";

const T = {
  "zh-CN": {
    hello: "您好！",
    welcome: "欢迎。工程师到达后请在此确认。",
    engineerHere: "服务工程师已到达",
    on_time: "准时到达",
    early: "提前 {m} 分钟到达",
    late: "迟到 {m} 分钟",
    allowEntry: "请确认是否允许进入作业区域",
    yes: "允许进入",
    no: "暂不允许",
    pleaseWait: "请稍等，工程师正在作业。",
    jobDone: "请确认服务是否完成",
    resolved: "问题已解决",
    unresolved: "问题未解决",
    rate: "请为本次服务评分",
    cleanupTitle: "请逐项确认现场清理",
    confirmItem: "确认",
    thanks: "谢谢您的确认！",
    goodbye: "服务结束，谢谢！再见。",
    token: "请输入此终端的访问令牌",
    save: "保存",
    language: "English",
    items: {
      work_area_clean: "作业区域已清扫干净",
      items_restored: "物品已恢复原位",
      borrowed_returned: "借用物品已归还",
      waste_removed: "废料垃圾已带走",
      own_items_removed: "工具物品已带走",
    } as Record<string, string>,
  },
  en: {
    hello: "Hello!",
    welcome: "Welcome. Please confirm here when the engineer arrives.",
    engineerHere: "Your service engineer is here",
    on_time: "On time",
    early: "{m} min early",
    late: "{m} min late",
    allowEntry: "Please confirm that the engineer may enter the work area",
    yes: "Let in",
    no: "Not now",
    pleaseWait: "Please wait: the engineer is working.",
    jobDone: "Please confirm whether the job is done",
    resolved: "Resolved",
    unresolved: "Not resolved",
    rate: "Please rate the service",
    cleanupTitle: "Please confirm the clean-up, item by item",
    confirmItem: "Confirm",
    thanks: "Thank you for confirming!",
    goodbye: "All done. Thank you, goodbye!",
    token: "Please enter this kiosk's access token",
    save: "Save",
    language: "中文",
    items: {
      work_area_clean: "Work area cleaned",
      items_restored: "Items put back",
      borrowed_returned: "Borrowed items returned",
      waste_removed: "Waste taken away",
      own_items_removed: "Tools and materials taken away",
    } as Record<string, string>,
  },
};

const siteId = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] ?? "");
const root = document.getElementById("kiosk") as HTMLElement;
let lang: Lang = localStorage.getItem("onsite.kiosk.lang") === "en" ? "en" : "zh-CN";
// A kiosk token's set-up link (`/kiosk/<site>#token=…`, from the dashboard): kept, then taken out
// of the address so it is not left on screen.
const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromLink) {
  localStorage.setItem(`onsite.kiosk.token.${siteId}`, fromLink);
  history.replaceState(null, "", location.pathname);
}
let token = localStorage.getItem(`onsite.kiosk.token.${siteId}`) ?? "";
let current: KioskState | null = null;
let resolved: boolean | null = null;
let busy = false;
let error = "";

const t = () => T[lang];

async function refresh(): Promise<void> {
  if (!token || busy) return;
  try {
    current = await api<KioskState>(token, "GET", `/api/v1/kiosk/${encodeURIComponent(siteId)}/state`);
    error = "";
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403 || e.status === 404)) {
      token = "";
      error = e.message;
    }
  }
  if (current?.step !== "completion") resolved = null;
  render();
}

async function send(body: Record<string, unknown>): Promise<void> {
  if (!current?.visit) return;
  busy = true;
  try {
    await api(token, "POST", `/api/v1/kiosk/${encodeURIComponent(siteId)}/events`, {
      visit: current.visit,
      ...body,
    });
  } catch (e) {
    error = (e as Error).message;
  } finally {
    busy = false;
  }
  await refresh();
}

function arrivalLine(s: KioskState): string {
  const a = s.arrival;
  if (!a) return "";
  return t()[a.class].replace("{m}", String(a.minutes));
}

function screen(s: KioskState): string {
  const who = s.engineer
    ? `<div class="who"><span class="avatar" aria-hidden="true">${esc(s.engineer.initials)}</span><div><p class="name">${esc(s.engineer.name)}</p><p>${esc(s.engineer.company)}</p></div></div>`
    : "";
  switch (s.step) {
    case "welcome":
      return `<h1>${t().hello}</h1><p class="lead">${t().welcome}</p>`;
    case "checkin":
      return `<h1>${t().hello}${t().engineerHere}</h1>${who}<p class="arrival">${esc(arrivalLine(s))}</p><p class="lead">${t().allowEntry}</p>
        <div class="actions"><button class="big yes" data-act="checkin-yes">${t().yes}</button><button class="big no" data-act="checkin-no">${t().no}</button></div>`;
    case "waiting":
      return `${who}<p class="lead">${t().pleaseWait}</p>`;
    case "completion":
      if (resolved === null) {
        return `${who}<h2>${t().jobDone}</h2>${s.report ? `<p>${esc(s.report.workDone)}</p>` : ""}
          <div class="actions"><button class="big yes" data-act="resolved">${t().resolved}</button><button class="big no" data-act="unresolved">${t().unresolved}</button></div>`;
      }
      return `${who}<h2>${t().rate}</h2><div class="actions stars">${[1, 2, 3, 4, 5]
        .map((n) => `<button class="big star" data-rate="${n}" aria-label="${n}">${"★".repeat(n)}</button>`)
        .join("")}</div>`;
    case "cleanup": {
      const items = s.cleanup?.required ?? [];
      return `${who}<h2>${t().cleanupTitle}</h2><ul class="checklist">${items
        .map((i) => {
          const done = s.cleanup?.signed.includes(i) === true;
          return `<li><span>${esc(t().items[i] ?? i)}</span>${done ? `<span class="done" aria-label="ok">✓</span>` : `<button class="big" data-item="${esc(i)}">${t().confirmItem}</button>`}</li>`;
        })
        .join("")}</ul>`;
    }
    case "thanks":
      return `<h1>${t().thanks}</h1>${who}`;
    case "goodbye":
      return `<h1>${t().goodbye}</h1>`;
  }
}

function render(): void {
  document.documentElement.lang = lang;
  const switcher = `<button class="lang-switch" data-act="lang">${t().language}</button>`;
  if (!token) {
    root.innerHTML = `${switcher}<form id="kiosk-login"><label for="kt">${t().token}</label><input id="kt" type="password" required /><button class="big" type="submit">${t().save}</button>${error ? `<p role="alert" class="error">${esc(error)}</p>` : ""}</form>`;
    return;
  }
  root.innerHTML = `${switcher}<p class="site-name">${esc(current?.site.name ?? siteId)}</p><main aria-live="polite">${current ? screen(current) : ""}</main>`;
}

root.addEventListener("click", (ev) => {
  const el = (ev.target as HTMLElement).closest<HTMLElement>("button");
  if (!el || busy) return;
  const act = el.dataset.act;
  if (act === "lang") {
    lang = lang === "zh-CN" ? "en" : "zh-CN";
    localStorage.setItem("onsite.kiosk.lang", lang);
    render();
  } else if (act === "checkin-yes" || act === "checkin-no") {
    void send({ type: "checkin_confirmed", engineer: current?.engineer?.id, consent: act === "checkin-yes" });
  } else if (act === "resolved" || act === "unresolved") {
    resolved = act === "resolved";
    render();
  } else if (el.dataset.rate) {
    void send({ type: "completion_confirmed", resolved: resolved ?? true, rating: Number(el.dataset.rate) });
  } else if (el.dataset.item) {
    void send({ type: "cleanup_signed_off", items: [el.dataset.item] });
  }
});

root.addEventListener("submit", (ev) => {
  ev.preventDefault();
  token = (document.getElementById("kt") as HTMLInputElement).value.trim();
  localStorage.setItem(`onsite.kiosk.token.${siteId}`, token);
  void refresh();
});

render();
void refresh();
setInterval(() => void refresh(), 1000);
