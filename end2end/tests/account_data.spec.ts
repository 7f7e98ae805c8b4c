import { test, expect, Page, TestInfo } from "@playwright/test";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { waitForSubject } from "./mail";
import { BIN, ROOT, SERVER_ENV, SMTP_BASE_URL } from "../playwright.config";
import { address, axePage, axePageSignedIn, ready, seriousViolations, PASSWORD, signUpWithPassword } from "./support";

// /account/data: downloading your data, and deleting the account: cancelled by signing in during the grace
// period (on the SMTP portal, whose grace period is a week), or erased by `vestibule purge` (on the first
// portal, whose grace period is 0, so the deletion is due at once). Plain links and forms: both projects.


test.describe.configure({ timeout: 90_000 });


async function signIn(page: Page, info: TestInfo, email: string, base = "") {
  await page.goto(`${base}/login`);
  await ready(page, info);
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

async function deleteAccount(page: Page, info: TestInfo, email: string, base = "") {
  await page.goto(`${base}/account/data`);
  await ready(page, info);
  await expect(page.getByRole("heading", { name: "Delete your account" })).toBeVisible();
  await page.getByLabel("Type your email address to confirm").fill(email);
  await page.getByRole("button", { name: "Delete my account" }).click();
  await expect(page).toHaveURL(/\/account\/data\?deletion=scheduled$/);
  await expect(page.getByRole("heading", { name: "Your account will be deleted" })).toBeVisible();
}

test("download your data: one JSON file with your account in it", async ({ page, browser }, info) => {
  const email = address("dot", info);
  await signUpWithPassword(page, info, email);
  await ready(page, info);
  await page.getByRole("link", { name: "Download or delete your data" }).click();
  await expect(page).toHaveURL(/\/account\/data$/);
  await ready(page, info);
  await expect(page.getByRole("heading", { name: "Download your data" })).toBeVisible();
  const p = await axePageSignedIn(page, browser, info);
  if (p !== page) await p.goto("/account/data");
  expect(await seriousViolations(p)).toEqual([]);
  if (p !== page) await p.context().close();

  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Download your data (JSON)" }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^account-data-\d{4}-\d{2}-\d{2}\.json$/);
  const data = JSON.parse(fs.readFileSync(await download.path(), "utf8"));
  expect(data.format).toBe("vestibule.account-export");
  expect(data.version).toBe(1);
  expect(data.account.email).toBe(email);
  expect(data.account.has_password).toBe(true);
  expect(data.audit_events.map((e: { kind: string }) => e.kind)).toContain("sign_up");
  expect(data.sessions.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
  // the page is still there
  await expect(page).toHaveURL(/\/account\/data$/);
});

test.describe("on the SMTP portal (a week's grace)", () => {
  test.use({ baseURL: SMTP_BASE_URL });

  test("delete the account, then sign in again: the deletion is cancelled", async ({ page, browser }, info) => {
    const email = address("fen", info);
    await signUpWithPassword(page, info, email, { base: SMTP_BASE_URL, source: "smtp" });
    // another browser signed in too: it is signed out by the deletion
    const elsewhere = await browser.newContext({ javaScriptEnabled: info.project.name === "hydrated", baseURL: SMTP_BASE_URL });
    const other = await elsewhere.newPage();
    await signIn(other, info, email, SMTP_BASE_URL);
    await expect(other).toHaveURL(/\/account$/);

    await deleteAccount(page, info, email, SMTP_BASE_URL);
    const scheduled = await waitForSubject(email, "Your account will be deleted", "smtp");
    expect(scheduled.text).toContain("Sign in before then");
    await other.goto(`${SMTP_BASE_URL}/account`);
    await expect(other).toHaveURL(/\/login$/);
    await elsewhere.close();
    await page.goto(`${SMTP_BASE_URL}/account`);
    await expect(page).toHaveURL(/\/login$/);

    const problems: string[] = [];
    page.on("console", (msg) => {
      if (msg.type() === "error") problems.push(msg.text());
    });
    page.on("pageerror", (err) => problems.push(err.message));
    if (info.project.name === "hydrated") {
      // signed in by the sign-in form's own request, so that /account then loads as a whole page: the notice
      // is rendered by the server and must survive hydration (the form itself would move there client-side)
      const res = await page.request.post(`${SMTP_BASE_URL}/api/auth/login`, {
        form: { email, password: PASSWORD },
        headers: { Origin: SMTP_BASE_URL, Accept: "application/json" },
      });
      expect(res.status()).toBe(200);
      await page.goto(`${SMTP_BASE_URL}/account`);
    } else {
      await signIn(page, info, email, SMTP_BASE_URL);
    }
    await expect(page).toHaveURL(/\/account$/);
    await ready(page, info);
    await expect(page.locator("[data-account-email]")).toHaveText(email);
    // said on the account page, right after the sign-in that cancelled it (and still after hydration)
    await expect(page.locator("[data-deletion-cancelled]")).toContainText("Signing in cancelled the deletion");
    expect(problems, "no script errors (a hydration mismatch would show here)").toEqual([]);
    await waitForSubject(email, "The deletion of your account was cancelled", "smtp");
    await page.goto(`${SMTP_BASE_URL}/account/data`);
    await ready(page, info);
    await expect(page.getByText(/You asked to delete your account, and signing in \(.+\) cancelled that\./)).toBeVisible();
    await expect(page.getByRole("button", { name: "Delete my account" })).toBeVisible();
  });
});

test("delete the account, then `vestibule purge` erases it; the address can sign up anew", async ({ page, browser }, info) => {
  const email = address("gus", info);
  await signUpWithPassword(page, info, email);
  await deleteAccount(page, info, email);
  await waitForSubject(email, "Your account will be deleted");
  const p = await axePage(page, browser, info);
  if (p !== page) await p.goto("/account/data?deletion=scheduled");
  expect(await seriousViolations(p)).toEqual([]);
  if (p !== page) await p.context().close();

  // the portal's grace period is 0: the deletion is due, and the purge (with the portal's data directory
  // and key) erases it. A parallel test's purge may have got there first: the effect is what counts.
  const out = execFileSync(BIN, ["purge"], { cwd: ROOT, env: { ...SERVER_ENV, PATH: process.env.PATH ?? "" }, encoding: "utf8" });
  expect(out).toMatch(/\d+ account\(s\) erased/);

  await signIn(page, info, email);
  await expect(page.getByText("That email and password do not match")).toBeVisible();
  await expect(page).toHaveURL(/\/login/);
  // the first confirmation, the deletion notice, then the new account's confirmation
  await signUpWithPassword(page, info, email, { mails: 3 });
  await expect(page.locator("[data-account-email]")).toHaveText(email);
});
