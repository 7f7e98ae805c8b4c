// Reading the mail the portal sent: from the dev outbox (files) or from maildev (a real SMTP server).
import { expect } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { DATA_DIR, MAILDEV_WEB } from "../playwright.config";

export interface Mail {
  subject: string;
  text: string;
}

export function code(mail: Mail): string {
  const match = mail.text.match(/\b\d{6}\b/);
  if (!match) throw new Error(`no code in: ${mail.text}`);
  return match[0];
}

/** The mail's link to `path` with its token: "/verify-email" (confirming the address), "/login/email" (signing
 *  in by email) or "/recover" (resetting the password). */
export function link(mail: Mail, path: "/verify-email" | "/login/email" | "/recover" = "/verify-email"): string {
  const escaped = path.replace(/[/.]/g, "\\$&");
  const match = mail.text.match(new RegExp(`https?://[^\\s/]+${escaped}\\?token=[A-Za-z0-9_-]+`));
  if (!match) throw new Error(`no ${path} link in: ${mail.text}`);
  return match[0];
}

function outboxMessages(to: string): Mail[] {
  const dir = path.join(DATA_DIR, "outbox");
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")))
    .filter((entry) => entry.to === to)
    .map((entry) => {
      const raw = fs.readFileSync(path.join(dir, entry.file), "utf8");
      const textPart = raw.split("Content-Type: text/plain")[1]?.split("Content-Type: text/html")[0] ?? "";
      return { subject: entry.subject, text: textPart.replace(/=\r\n/g, "").replace(/=3D/g, "=") };
    });
}

async function maildevMessages(to: string): Promise<Mail[]> {
  const response = await fetch(`http://127.0.0.1:${MAILDEV_WEB}/email`);
  const all = (await response.json()) as Array<{ subject: string; text: string; to: Array<{ address: string }> }>;
  return all.filter((m) => m.to.some((t) => t.address === to)).map((m) => ({ subject: m.subject, text: m.text }));
}

/** Waits for the first message to `to` whose subject is `subject` (notices may arrive in any order among
 *  the other messages) and returns it. */
export async function waitForSubject(to: string, subject: string, source: "outbox" | "smtp" = "outbox"): Promise<Mail> {
  let found: Mail | undefined;
  await expect
    .poll(async () => {
      const messages = source === "outbox" ? outboxMessages(to) : await maildevMessages(to);
      found = messages.find((m) => m.subject === subject);
      return found !== undefined;
    }, { message: `mail "${subject}" to ${to}` })
    .toBe(true);
  return found!;
}

/** Waits for the `count`-th message to `to` and returns it. */
export async function waitForMail(to: string, count = 1, source: "outbox" | "smtp" = "outbox"): Promise<Mail> {
  let messages: Mail[] = [];
  await expect
    .poll(async () => {
      messages = source === "outbox" ? outboxMessages(to) : await maildevMessages(to);
      return messages.length;
    }, { message: `mail #${count} to ${to}` })
    .toBeGreaterThanOrEqual(count);
  return messages[count - 1];
}
