// Helpers the specs share: fresh addresses, waiting for hydration, the authenticator app, and axe.
import { test, expect, Page, Browser, TestInfo } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import * as OTPAuth from "otpauth";
import { code, waitForMail } from "./mail";

export const STEP_MS = 30_000;

/** The password the specs' accounts sign up with. */
export const PASSWORD = "plum tractor velvet harbor 42";

/** A fresh address per test and project (tests run in parallel and never share an account). */
export function address(name: string, info: TestInfo): string {
  return `${name}-${info.project.name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

export const hydrated = (info: TestInfo) => info.project.name === "hydrated";

/** After a navigation: on the hydrated project, waits until the page is interactive. */
export async function ready(page: Page, info: TestInfo) {
  if (hydrated(info)) await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
}

export async function open(page: Page, info: TestInfo, path: string) {
  await page.goto(path);
  await ready(page, info);
}

/** The authenticator app: codes from the key shown at setup. A code works once and only for a step later
 *  than the last accepted one, so each new code is for the next unused step; when that step is more than one
 *  ahead of the clock (the server takes one step either side), it waits for the clock to get there. */
export class Authenticator {
  private readonly totp: OTPAuth.TOTP;
  private last = -Infinity;

  constructor(secret: string) {
    this.totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: "SHA1" });
  }

  static step(): number {
    return Math.floor(Date.now() / STEP_MS);
  }

  /** A code the server will accept (and then never again). */
  async next(): Promise<string> {
    const target = Math.max(this.last + 1, Authenticator.step());
    if (target > Authenticator.step() + 1) {
      await expect
        .poll(() => Authenticator.step(), { message: "the clock reaches the step before the code's", timeout: 2 * STEP_MS, intervals: [250] })
        .toBeGreaterThanOrEqual(target - 1);
    }
    this.last = target;
    return this.totp.generate({ timestamp: target * STEP_MS });
  }

  /** Six digits that are not the code of any step the server would look at now. */
  wrong(): string {
    const near = new Set([-1, 0, 1, 2].map((d) => this.totp.generate({ timestamp: (Authenticator.step() + d) * STEP_MS })));
    for (let n = 0; ; n++) {
      const candidate = String((123456 + n * 111111) % 1_000_000).padStart(6, "0");
      if (!near.has(candidate)) return candidate;
    }
  }
}

/** axe's serious and critical findings on the page (WCAG 2.2 AA and best practice); minor ones are noted
 *  on the test, not failed. */
export async function seriousViolations(page: Page): Promise<string[]> {
  // After a form post the new page's elements can be found before its stylesheet has arrived; axe on an
  // unstyled page reports what no user sees (tiny inline links, the skip link on screen). The load event
  // comes after the stylesheets.
  await page.waitForLoadState("load");
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"])
    .analyze();
  const minor = results.violations.filter((v) => v.impact !== "serious" && v.impact !== "critical");
  if (minor.length > 0) {
    const description = `${page.url()}: ${minor.map((v) => `${v.impact}: ${v.id} ${v.help}`).join("; ")}`;
    test.info().annotations.push({ type: "axe, minor or moderate", description });
    console.log(`axe, minor or moderate: ${description}`);
  }
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${page.url()} ${v.impact}: ${v.id} ${v.help}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

/** A page axe can run in: the project's own, or for JavaScript off, one with the app's bundle blocked (axe
 *  itself is JavaScript), which renders exactly what a browser without JavaScript gets. */
export async function axePage(page: Page, browser: Browser, info: TestInfo, baseURL?: string): Promise<Page> {
  if (hydrated(info)) return page;
  // an explicit `baseURL: undefined` would drop the project's own, so pass it only when given
  const context = await browser.newContext({ javaScriptEnabled: true, ...(baseURL ? { baseURL } : {}) });
  const bare = await context.newPage();
  await bare.route(/\/pkg\/.*\.(js|wasm)$/, (route) => route.abort());
  return bare;
}

/** `axePage` for a signed-in page: for JavaScript off, the bare page gets this browser's cookies (the
 *  session), so axe sees the signed-in page exactly as a browser without JavaScript renders it. */
export async function axePageSignedIn(page: Page, browser: Browser, info: TestInfo, baseURL?: string): Promise<Page> {
  if (hydrated(info)) return page;
  const bare = await axePage(page, browser, info, baseURL);
  await bare.context().addCookies(await page.context().cookies());
  return bare;
}

/** Signs up with a password and confirms the address by the code mailed to it; ends signed in on /account.
 *  `base`: another portal's address; `source`: where that portal's mail goes; `mails`: how many messages the
 *  address has by then (the newest holds the code). */
export async function signUpWithPassword(
  page: Page,
  info: TestInfo,
  email: string,
  { base = "", source = "outbox", mails = 1 }: { base?: string; source?: "outbox" | "smtp"; mails?: number } = {},
) {
  await open(page, info, `${base}/signup`);
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Create account", exact: true }).click();
  await expect(page).toHaveURL(/\/verify-email$/);
  await ready(page, info);
  await page.getByLabel("Code").fill(code(await waitForMail(email, mails, source)));
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator("[data-account-email]")).toHaveText(email);
}
