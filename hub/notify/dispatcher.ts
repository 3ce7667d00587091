/**
 * Delivers the outbox: at least once, with retries and backoff, surviving restarts (what is due is
 * read from the store). Webhooks get a JSON POST signed with `x-onsite-signature: sha256=<hex
 * HMAC-SHA256 of the raw body>`; e-mail goes over SMTP (nodemailer); SMS through the configured
 * HTTP gateway, a template with `{{phone}}`, `{{text}}` (URL-encoded in the URL) and `{{text_json}}`
 * (a JSON string, in the body). A receiver dedupes by the delivery's `id`.
 */
import { createHmac } from "node:crypto";
import nodemailer, { type Transporter } from "nodemailer";
import type { OutboxItem } from "../core/notify/plan.js";
import type { Clock, Store } from "../core/ports.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import type { KeyVault } from "../security/secrets.js";

export interface SmtpOptions {
  host: string;
  port: number;
  /** TLS from the start (465); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  user?: string;
  pass?: string;
  from: string;
}

export interface SmsOptions {
  url: string;
  method: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
}

export interface DispatchOptions {
  smtp?: SmtpOptions;
  sms?: SmsOptions;
  maxAttempts: number;
  /** First retry after this long, doubling to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** How often the outbox is looked at (a new item is picked up at once anyway). */
  pollMs: number;
  timeoutMs: number;
}

export const DEFAULT_DISPATCH: DispatchOptions = {
  maxAttempts: 12,
  baseDelayMs: 2_000,
  maxDelayMs: 10 * 60_000,
  pollMs: 1_000,
  timeoutMs: 10_000,
};

export const signature = (secret: string, body: string) =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

export class Dispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private mailer: Transporter | undefined;
  private stopped = false;
  private again = false;

  constructor(
    private readonly deps: { store: Store; clock: Clock; log: Logger; metrics: Metrics; vault: KeyVault },
    private readonly opts: DispatchOptions,
  ) {
    if (opts.smtp) {
      this.mailer = nodemailer.createTransport({
        host: opts.smtp.host,
        port: opts.smtp.port,
        secure: opts.smtp.secure,
        ...(opts.smtp.user ? { auth: { user: opts.smtp.user, pass: opts.smtp.pass ?? "" } } : {}),
        connectionTimeout: opts.timeoutMs,
        socketTimeout: opts.timeoutMs,
      });
    }
  }

  /** Starts (again, after `stop()`: a cluster node that becomes the leader once more). */
  start(): void {
    this.stopped = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => this.kick(), this.opts.pollMs);
    this.timer.unref();
    this.kick();
  }

  /** Look at the outbox now (something was just written). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((e: unknown) => this.deps.log.error({ err: e }, "notification dispatch failed"))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    this.mailer?.close();
  }

  private async drain(): Promise<void> {
    for (;;) {
      const due = await this.deps.store.dueOutbox(this.deps.clock.now(), 20);
      if (due.length === 0 || this.stopped) return;
      await Promise.all(due.map((item) => this.deliver(item)));
    }
  }

  private async deliver(item: OutboxItem): Promise<void> {
    const { store, clock, metrics, log } = this.deps;
    const attempts = item.attempts + 1;
    try {
      await this.send(item);
      await store.updateOutbox(item.id, {
        status: "delivered",
        attempts,
        nextAt: null,
        lastError: null,
        deliveredAt: clock.now(),
      });
      metrics.inc("onsite_notifications_total", "Notifications by outcome", {
        channel: item.channel,
        type: item.type,
        outcome: "delivered",
      });
    } catch (e) {
      const error = (e as Error).message.slice(0, 500);
      const failed = attempts >= this.opts.maxAttempts;
      const delay = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** (attempts - 1));
      await store.updateOutbox(item.id, {
        status: failed ? "failed" : "pending",
        attempts,
        nextAt: failed ? null : clock.now() + delay,
        lastError: error,
        deliveredAt: null,
      });
      metrics.inc("onsite_notifications_total", "Notifications by outcome", {
        channel: item.channel,
        type: item.type,
        outcome: failed ? "failed" : "retry",
      });
      log[failed ? "error" : "warn"](
        { id: item.id, channel: item.channel, target: item.target, attempts, error },
        failed ? "notification failed for good" : "notification delivery failed; retrying",
      );
    }
  }

  private async send(item: OutboxItem): Promise<void> {
    if (item.channel === "webhook") return this.webhook(item);
    const m = JSON.parse(item.body) as { subject: string; text: string };
    if (item.channel === "email") {
      if (!this.mailer || !this.opts.smtp) throw new Error("no SMTP server configured (notify.smtp)");
      await this.mailer.sendMail({
        from: this.opts.smtp.from,
        to: item.target,
        subject: m.subject,
        text: m.text,
      });
      return;
    }
    const sms = this.opts.sms;
    if (!sms) throw new Error("no SMS gateway configured (notify.sms)");
    const fill = (s: string, url: boolean) =>
      s
        .replaceAll("{{phone}}", url ? encodeURIComponent(item.target) : item.target)
        .replaceAll("{{text_json}}", JSON.stringify(m.text))
        .replaceAll("{{text}}", url ? encodeURIComponent(m.text) : m.text);
    const res = await fetch(fill(sms.url, true), {
      method: sms.method,
      headers: sms.headers ?? {},
      ...(sms.method === "POST" && sms.body !== undefined ? { body: fill(sms.body, false) } : {}),
      signal: AbortSignal.timeout(this.opts.timeoutMs),
    });
    if (!res.ok) throw new Error(`SMS gateway answered ${res.status}`);
  }

  private async webhook(item: OutboxItem): Promise<void> {
    const hook = (await this.deps.store.listWebhooks()).find((w) => w.id === item.target);
    if (!hook) throw new Error(`webhook ${item.target} was deleted`);
    const secret = Buffer.from(this.deps.vault.open(hook.sealedSecret)).toString("utf8");
    const res = await fetch(hook.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-onsite-signature": signature(secret, item.body),
        "x-onsite-delivery": item.id,
      },
      body: item.body,
      signal: AbortSignal.timeout(this.opts.timeoutMs),
    });
    if (!res.ok) throw new Error(`webhook answered ${res.status}`);
  }
}
