import { test, expect, Page, Browser, BrowserContext, Locator, TestInfo } from "@playwright/test";
import { code, link, waitForSubject } from "./mail";
import { address, Authenticator, axePage, hydrated, open, ready, seriousViolations, PASSWORD, signUpWithPassword } from "./support";
import { SMTP_BASE_URL } from "../playwright.config";

// Signing in with an emailed code or link (/login/email), the forgotten password (/recover, then
// /recover/password, through /login/second-factor when the account has two-step verification), and the lost
// authenticator app (a recovery code, then a new app). Plain forms, so every test runs in both projects
// (hydrated and JavaScript off), except the keyboard pass.
//
// Each address gets at most one code per flow: after a message, the next one to the same address waits a
// minute (only the cooldown test asks twice).

const NEW_PASSWORD = "quiet lantern orchard meadow 77";
const INVALID_CODE = "That code is wrong or has expired";
const SIGN_IN_SUBJECT = "Your sign-in code";
const RECOVER_SUBJECT = "Reset your password";

// Each test signs up (and some set up an app or sign in again): every password check is a deliberately slow
// hash, more than the default 30 s on a busy two-core machine.
test.describe.configure({ timeout: 90_000 });

type Source = "outbox" | "smtp";

/** Another browser (its own cookies), with JavaScript as the project has it. */
async function otherBrowser(browser: Browser, info: TestInfo, baseURL: string | undefined, userAgent?: string): Promise<BrowserContext> {
  return browser.newContext({ javaScriptEnabled: hydrated(info), baseURL, ...(userAgent ? { userAgent } : {}) });
}


async function signOut(page: Page, info: TestInfo) {
  await open(page, info, "/account");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/$/);
}

/** Email and password on /login (no second step expected). */
async function signInWithPassword(page: Page, info: TestInfo, email: string, password: string) {
  await open(page, info, "/login");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

/** From /login, by its link ("Email me a sign-in code" or "Forgot your password?"), asks for a code for
 *  `email`; ends on the code form. */
async function askForCode(page: Page, info: TestInfo, linkName: "Email me a sign-in code" | "Forgot your password?", email: string) {
  await open(page, info, "/login");
  await page.getByRole("link", { name: linkName }).click();
  const path = linkName === "Forgot your password?" ? "/recover" : "/login/email";
  await expect(page).toHaveURL(new RegExp(`${path}$`));
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(
    linkName === "Forgot your password?" ? "Reset your password" : "Sign in with an emailed code",
  );
  await ready(page, info);
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Email me a code" }).click();
  await expectCodeForm(page, email);
  await ready(page, info);
}

/** The second state of /login/email and /recover: the code form for `email`. */
async function expectCodeForm(page: Page, email: string) {
  await expect(page.getByLabel("Code")).toBeVisible();
  await expect(page.getByText(`If ${email} has an account, we sent it a 6-digit code`)).toBeVisible();
  await expect(page.getByRole("button", { name: "Send a new code" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Use another address" })).toBeVisible();
}

async function enterCode(page: Page, value: string) {
  await page.getByLabel("Code").fill(value);
  await page.getByRole("button", { name: "Continue", exact: true }).click();
}

/** Six digits that are not `right`. */
function wrongCode(right: string): string {
  return String((Number(right) + 1) % 1_000_000).padStart(6, "0");
}

/** On /recover/password: saves `password`. */
async function chooseNewPassword(page: Page, email: string, password: string) {
  await expect(page).toHaveURL(/\/recover\/password(\?.*)?$/); // JavaScript off, after an error: its query
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Choose a new password");
  await expect(page.getByText(`Choose a new password for ${email}.`)).toBeVisible();
  await page.getByLabel("New password").fill(password);
  await page.getByRole("button", { name: "Save new password" }).click();
}

/** Signed in after a reset: /account with the success message. */
async function expectSignedInAfterReset(page: Page, email: string) {
  await expect(page).toHaveURL(/\/account\?password_reset=1$/);
  await expect(page.getByRole("status").filter({ hasText: "Your password was changed and every other session was signed out." })).toBeVisible();
  await expect(page.locator("[data-account-email]")).toHaveText(email);
}

/** On /account/security: sets up an authenticator app; returns it and the recovery codes shown once. */
async function setUpApp(page: Page, info: TestInfo): Promise<{ app: Authenticator; recoveryCodes: string[] }> {
  await open(page, info, "/account/security");
  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  const secret = page.locator("[data-totp-secret]");
  await expect(secret).toBeVisible();
  await ready(page, info);
  const app = new Authenticator(((await secret.textContent()) ?? "").trim());
  await page.getByLabel("Code shown in the app").fill(await app.next());
  await page.getByRole("button", { name: "Turn on two-step verification" }).click();
  await expect(page.locator("[data-totp-on]")).toBeVisible();
  const list = page.locator("[data-recovery-codes] li code");
  await expect(list).toHaveCount(10);
  return { app, recoveryCodes: (await list.allTextContents()).map((c) => c.trim()) };
}

// ---- signing in with an emailed code or link ----

test("sign in with an emailed code: /login → Email me a sign-in code → the code → /account", async ({ page }, info) => {
  const email = address("cora", info);
  await signUpWithPassword(page, info, email);
  await signOut(page, info);

  await askForCode(page, info, "Email me a sign-in code", email);
  const mail = await waitForSubject(email, SIGN_IN_SUBJECT);
  expect(link(mail, "/login/email")).toMatch(/^http:\/\/localhost:3100\/login\/email\?token=/);
  await enterCode(page, code(mail));
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator("[data-account-email]")).toHaveText(email);
});

test("the mail's link signs in the browser that asked, without the code", async ({ page }, info) => {
  const email = address("lina", info);
  await signUpWithPassword(page, info, email);
  await signOut(page, info);

  await askForCode(page, info, "Email me a sign-in code", email);
  const mail = await waitForSubject(email, SIGN_IN_SUBJECT);
  await open(page, info, link(mail, "/login/email"));
  await expect(page.getByText("Sign in with the link from your email.")).toBeVisible();
  await expect(page.getByLabel("Code")).toHaveCount(0);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator("[data-account-email]")).toHaveText(email);
});

test("the link opened in another browser asks for the code too, then signs that browser in", async ({ page, browser, baseURL }, info) => {
  const email = address("max", info);
  await signUpWithPassword(page, info, email);
  await signOut(page, info);
  await askForCode(page, info, "Email me a sign-in code", email);
  const mail = await waitForSubject(email, SIGN_IN_SUBJECT);

  // another browser (a user agent the account never signed in with, so its owner is told)
  const phone = await otherBrowser(browser, info, baseURL,
    "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0");
  const other = await phone.newPage();
  await open(other, info, link(mail, "/login/email"));
  await expect(other.getByText("This link was asked for in another browser.")).toBeVisible();
  // the link alone is not enough: the code is a required field here
  await expect(other.getByLabel("Code")).toHaveAttribute("required", "");
  await other.getByLabel("Code").fill(code(mail));
  await other.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(other).toHaveURL(/\/account$/);
  await expect(other.locator("[data-account-email]")).toHaveText(email);
  const notice = await waitForSubject(email, "New sign-in to your account");
  expect(notice.text).toContain("Firefox");
  await phone.close();

  // the browser that asked cannot use the same message any more
  await enterCode(page, code(mail));
  await expect(page.getByRole("alert")).toContainText(INVALID_CODE);
});

// ---- the forgotten password ----

test("forgot password: code, new password, signed in; other sessions end, only the new password works", async ({ page, browser, baseURL }, info) => {
  const email = address("ruth", info);
  await signUpWithPassword(page, info, email); // `page` stays signed in: the device that is not in use

  const laptop = await otherBrowser(browser, info, baseURL);
  const other = await laptop.newPage();
  await askForCode(other, info, "Forgot your password?", email);
  const mail = await waitForSubject(email, RECOVER_SUBJECT);
  expect(link(mail, "/recover")).toMatch(/^http:\/\/localhost:3100\/recover\?token=/);
  await enterCode(other, code(mail));
  await ready(other, info);
  await chooseNewPassword(other, email, NEW_PASSWORD);
  await expectSignedInAfterReset(other, email);
  const told = await waitForSubject(email, "Your password was reset");
  expect(told.text).toContain("Every session that was signed in has been signed out.");
  await laptop.close();

  // the session from before the reset ended
  await open(page, info, "/account");
  await expect(page).toHaveURL(/\/login$/);
  await signInWithPassword(page, info, email, PASSWORD);
  await expect(page.getByRole("alert")).toContainText("do not match an account");
  await signInWithPassword(page, info, email, NEW_PASSWORD);
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator("[data-account-email]")).toHaveText(email);
});

test("forgot password with two-step verification: code, then the app's code, then the new password", async ({ page }, info) => {
  const email = address("tess", info);
  await signUpWithPassword(page, info, email);
  const { app } = await setUpApp(page, info);
  await signOut(page, info);

  await askForCode(page, info, "Forgot your password?", email);
  await enterCode(page, code(await waitForSubject(email, RECOVER_SUBJECT)));
  await expect(page).toHaveURL(/\/login\/second-factor$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Two-step verification");
  await expect(page.getByText("resetting the password needs it too")).toBeVisible();
  // no new password without the second step: /recover/password sends back to /recover
  await open(page, info, "/recover/password");
  await expect(page).toHaveURL(/\/recover$/);
  await open(page, info, "/login/second-factor");
  await expect(page.getByText("resetting the password needs it too")).toBeVisible();
  await ready(page, info);
  await page.getByLabel("6-digit code").fill(await app.next());
  await page.getByRole("button", { name: "Continue", exact: true }).click();
  await ready(page, info);
  await chooseNewPassword(page, email, NEW_PASSWORD);
  await expectSignedInAfterReset(page, email);

  await signOut(page, info);
  await signInWithPassword(page, info, email, NEW_PASSWORD);
  await expect(page).toHaveURL(/\/login\/second-factor$/); // the app still guards the account
});

test("lost phone: a recovery code signs in and says how many are left; then a new app replaces the old", async ({ page }, info) => {
  const email = address("finn", info);
  await signUpWithPassword(page, info, email);
  const { recoveryCodes } = await setUpApp(page, info);
  await signOut(page, info);

  await signInWithPassword(page, info, email, PASSWORD);
  await expect(page).toHaveURL(/\/login\/second-factor$/);
  await ready(page, info);
  await page.getByLabel("Recovery code").fill(recoveryCodes[0]);
  await page.getByRole("button", { name: "Sign in with a recovery code" }).click();
  await expect(page).toHaveURL(/\/account\/security\?recovery_used=1$/);
  await expect(page.getByRole("status").filter({ hasText: "You signed in with a recovery code. 9 left." })).toBeVisible();
  await ready(page, info);

  await page.getByRole("button", { name: "Remove the authenticator app" }).click();
  await expect(page.locator("[data-totp-on]")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Set up an authenticator app" })).toBeVisible();
  expect((await waitForSubject(email, "Two-step verification was turned off")).subject).toBeTruthy();
  const { app } = await setUpApp(page, info);

  await signOut(page, info);
  await signInWithPassword(page, info, email, PASSWORD);
  await expect(page).toHaveURL(/\/login\/second-factor$/);
  await ready(page, info);
  await page.getByLabel("6-digit code").fill(await app.next());
  await page.getByRole("button", { name: "Continue", exact: true }).click();
  await expect(page).toHaveURL(/\/account$/);
});

// ---- mistakes ----

test("bad inputs: a wrong code, asking again too soon, a too-short new password", async ({ page }, info) => {
  const email = address("ivo", info);
  await signUpWithPassword(page, info, email);
  await signOut(page, info);

  await askForCode(page, info, "Forgot your password?", email);
  const right = code(await waitForSubject(email, RECOVER_SUBJECT));
  await enterCode(page, wrongCode(right));
  await expect(page.getByRole("alert")).toContainText(INVALID_CODE);
  await expect(page).toHaveURL(/\/recover(\?.*)?$/); // JavaScript off: back with the error in the query
  await expectCodeForm(page, email);
  await ready(page, info);

  // a minute must pass before the next message to the same address
  await page.getByRole("button", { name: "Send a new code" }).click();
  await expect(page.getByRole("alert").filter({ hasText: /ask for another one in \d+ seconds/ })).toBeVisible();
  // only the newer answer's error: the refused code's message is gone (hydrated too, without a page load)
  await expect(page.getByRole("alert")).toHaveCount(1);
  await expect(page.getByText(INVALID_CODE)).toHaveCount(0);
  await ready(page, info);

  // the right code still works
  await enterCode(page, right);
  await ready(page, info);
  await chooseNewPassword(page, email, "short");
  const field = page.getByLabel("New password");
  await expect(field).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("#field-password-error")).toContainText("at least 15 characters");
  await expect(page).toHaveURL(/\/recover\/password(\?.*)?$/);
  await ready(page, info);
  await chooseNewPassword(page, email, NEW_PASSWORD);
  await expectSignedInAfterReset(page, email);
});

// ---- a real SMTP server ----

test.describe("with a real SMTP server", () => {
  test.use({ baseURL: SMTP_BASE_URL });

  test("the sign-in code arrives over SMTP and signs in", async ({ page }, info) => {
    const email = address("sam", info);
    await signUpWithPassword(page, info, email, { source: "smtp" });
    await signOut(page, info);
    await askForCode(page, info, "Email me a sign-in code", email);
    const mail = await waitForSubject(email, SIGN_IN_SUBJECT, "smtp");
    expect(link(mail, "/login/email")).toMatch(/^http:\/\/localhost:3102\/login\/email\?token=/);
    await enterCode(page, code(mail));
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.locator("[data-account-email]")).toHaveText(email);
  });
});

// ---- accessibility ----

test("axe: no serious or critical violations on /login/email, /recover (address, code, error) and /recover/password", async ({ page, browser, baseURL }, info) => {
  const p = await axePage(page, browser, info, baseURL);
  const email = address("ada", info);
  await signUpWithPassword(p, info, email);
  await signOut(p, info);
  const found: string[] = [];

  await open(p, info, "/login/email");
  await expect(p.getByLabel("Email address")).toBeVisible();
  if (!hydrated(info)) await expect(p.locator("html")).not.toHaveAttribute("data-hydrated", "true");
  found.push(...(await seriousViolations(p)));
  await open(p, info, "/login/email?token=not-a-real-token");
  await expect(p.getByRole("button", { name: "Sign in", exact: true })).toBeVisible();
  found.push(...(await seriousViolations(p)));

  await open(p, info, "/recover");
  await expect(p.getByLabel("Email address")).toBeVisible();
  found.push(...(await seriousViolations(p)));
  await p.getByLabel("Email address").fill(email);
  await p.getByRole("button", { name: "Email me a code" }).click();
  await expectCodeForm(p, email);
  await ready(p, info);
  found.push(...(await seriousViolations(p)));

  const right = code(await waitForSubject(email, RECOVER_SUBJECT));
  await enterCode(p, wrongCode(right));
  await expect(p.getByRole("alert")).toContainText(INVALID_CODE);
  await ready(p, info);
  found.push(...(await seriousViolations(p)));

  await enterCode(p, right);
  await expect(p).toHaveURL(/\/recover\/password$/);
  await expect(p.getByLabel("New password")).toBeVisible();
  await ready(p, info);
  found.push(...(await seriousViolations(p)));
  await chooseNewPassword(p, email, "short");
  await expect(p.locator("#field-password-error")).toBeVisible();
  await ready(p, info);
  found.push(...(await seriousViolations(p)));

  expect(found).toEqual([]);
  if (p !== page) await p.context().close();
});

/** Presses Tab until `target` has the focus (at most `max` times). */
async function tabTo(page: Page, target: Locator, max = 40) {
  let reached = false;
  for (let i = 0; i < max && !reached; i++) {
    await page.keyboard.press("Tab");
    reached = await target.evaluate((el) => el === document.activeElement);
  }
  expect(reached, `Tab reaches ${target}`).toBe(true);
  await expect(target).toBeFocused();
}

test("keyboard only: /login → Email me a sign-in code → address → code → signed in", async ({ page }, info) => {
  test.skip(!hydrated(info), "one keyboard pass, in the hydrated project");
  const email = address("kira", info);
  await signUpWithPassword(page, info, email);
  await signOut(page, info);

  await open(page, info, "/login");
  await tabTo(page, page.getByRole("link", { name: "Email me a sign-in code" }));
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/login\/email$/);
  const field = page.getByLabel("Email address");
  await expect(field).toBeVisible();
  await tabTo(page, field);
  await page.keyboard.type(email);
  await page.keyboard.press("Enter");

  await expectCodeForm(page, email);
  await tabTo(page, page.getByLabel("Code"));
  await page.keyboard.type(code(await waitForSubject(email, SIGN_IN_SUBJECT)));
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator("[data-account-email]")).toHaveText(email);
});
