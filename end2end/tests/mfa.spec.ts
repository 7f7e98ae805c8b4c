import { test, expect, Page, Browser, TestInfo, CDPSession } from "@playwright/test";
import { code, waitForMail } from "./mail";
import { address, Authenticator, axePage, hydrated, open, ready, seriousViolations, PASSWORD, signUpWithPassword } from "./support";

// Two-step verification: an authenticator app (TOTP) set up on /account/security, the second-factor step of
// a password sign-in on /login/second-factor, and recovery codes. Plain forms, so every test runs in both
// projects (hydrated and JavaScript off).

const WRONG_CODE = /That code is wrong/;

// Each test signs up, sets up the app and signs in again (each password check is a deliberately slow hash):
// more than the default 30 s on a busy two-core machine.
test.describe.configure({ timeout: 90_000 });

interface Account {
  email: string;
  app: Authenticator;
  recoveryCodes: string[];
}


/** Email and password; an account with an app goes on to the second-factor step. */
async function signInWithPassword(page: Page, info: TestInfo, email: string) {
  await open(page, info, "/login");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/login\/second-factor$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Two-step verification");
  await ready(page, info);
}

async function signOut(page: Page, info: TestInfo) {
  await open(page, info, "/account");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/$/);
}

/** On /account/security right after signing up: starts the setup; returns the key the page shows. */
async function startSetup(page: Page, info: TestInfo): Promise<string> {
  await open(page, info, "/account/security");
  const card = page.locator(".vs-card", { has: page.getByRole("heading", { name: "Two-step verification" }) });
  await expect(card).toBeVisible();
  await card.getByRole("button", { name: "Set up an authenticator app" }).click();
  const secret = page.locator("[data-totp-secret]");
  await expect(secret).toBeVisible();
  await ready(page, info);
  await expect(page.getByRole("img", { name: "QR code holding the key for your authenticator app" })).toBeVisible();
  const text = ((await secret.textContent()) ?? "").trim();
  expect(text).toMatch(/^[A-Z2-7]{32}$/); // 160 bits in base32
  return text;
}

/** Types a code into the setup form and submits it. */
async function confirmSetup(page: Page, totpCode: string) {
  await page.getByLabel("Code shown in the app").fill(totpCode);
  await page.getByRole("button", { name: "Turn on two-step verification" }).click();
}

/** Reads the recovery codes shown once after the setup. */
async function recoveryCodes(page: Page): Promise<string[]> {
  const list = page.locator("[data-recovery-codes] li code");
  await expect(list).toHaveCount(10);
  return (await list.allTextContents()).map((c) => c.trim());
}

/** A new account with a password and an authenticator app; ends signed in on /account/security. */
async function enrolledAccount(page: Page, info: TestInfo, name: string): Promise<Account> {
  const email = address(name, info);
  await signUpWithPassword(page, info, email);
  const app = new Authenticator(await startSetup(page, info));
  await confirmSetup(page, await app.next());
  await expect(page.locator("[data-totp-on]")).toBeVisible();
  return { email, app, recoveryCodes: await recoveryCodes(page) };
}

test("set up an authenticator app: a wrong code is refused, the right one turns it on, recovery codes are shown once", async ({ page }, info) => {
  const email = address("tia", info);
  await signUpWithPassword(page, info, email);
  const app = new Authenticator(await startSetup(page, info));

  await confirmSetup(page, app.wrong());
  await expect(page.getByRole("alert").filter({ hasText: WRONG_CODE })).toBeVisible();
  await expect(page.locator("[data-totp-secret]")).toBeVisible(); // still setting up
  await expect(page.locator("[data-totp-on]")).toHaveCount(0);
  await ready(page, info);

  await confirmSetup(page, await app.next());
  await expect(page).toHaveURL(/\/account\/security(#recovery)?$/);
  await expect(page.locator("[data-totp-on]")).toBeVisible();
  await expect(page.locator("[data-totp-secret]")).toHaveCount(0);
  await expect(page.getByRole("img", { name: "QR code holding the key for your authenticator app" })).toHaveCount(0);
  const codes = await recoveryCodes(page);
  for (const c of codes) expect(c).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  expect(new Set(codes).size).toBe(10);
  const download = page.getByRole("link", { name: "Download the codes as a text file" });
  await expect(download).toHaveAttribute("download", /\.txt$/);
  const href = (await download.getAttribute("href")) ?? "";
  expect(href.startsWith("data:text/plain")).toBe(true);
  const file = decodeURIComponent(href.slice(href.indexOf(",") + 1));
  for (const c of codes) expect(file).toContain(c);
  await expect(page.locator("[data-recovery-left]")).toHaveAttribute("data-recovery-left", "10");
  expect((await waitForMail(email, 2)).subject).toBe("Two-step verification is on");

  await page.reload();
  await ready(page, info);
  await expect(page.locator("[data-totp-on]")).toBeVisible();
  await expect(page.locator("[data-recovery-codes]")).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Download the codes as a text file" })).toHaveCount(0);
  await expect(page.locator("[data-recovery-left]")).toHaveText("Recovery codes left: 10");
  await expect(page.locator("[data-recovery-left]")).toHaveAttribute("data-recovery-left", "10");
});

test("sign in with password and app code; a code already used is refused", async ({ page }, info) => {
  const account = await enrolledAccount(page, info, "otto");
  await signOut(page, info);

  await signInWithPassword(page, info, account.email);
  // half signed in: the account pages are not open yet
  const used = await account.app.next();
  await page.getByLabel("6-digit code").fill(used);
  await page.getByRole("button", { name: "Continue", exact: true }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator("[data-account-email]")).toHaveText(account.email);
  await signOut(page, info);

  await signInWithPassword(page, info, account.email);
  await page.getByLabel("6-digit code").fill(used);
  await page.getByRole("button", { name: "Continue", exact: true }).click();
  await expect(page.getByRole("alert").filter({ hasText: WRONG_CODE })).toBeVisible();
  await expect(page).toHaveURL(/\/login\/second-factor(\?.*)?$/);
  await expect(page.getByLabel("6-digit code")).toBeVisible();
  // and the account stays closed
  await open(page, info, "/account");
  await expect(page).toHaveURL(/\/login$/);
});

test("cancel at the second-factor step signs out", async ({ page }, info) => {
  const account = await enrolledAccount(page, info, "cato");
  await signOut(page, info);
  await signInWithPassword(page, info, account.email);
  await page.getByRole("button", { name: "Cancel and sign out" }).click();
  await expect(page).not.toHaveURL(/\/login\/second-factor(\?.*)?$/);
  await open(page, info, "/login/second-factor");
  await expect(page).toHaveURL(/\/login$/);
  await open(page, info, "/account");
  await expect(page).toHaveURL(/\/login$/);
});

test("sign in with a recovery code; the same code does not work twice", async ({ page }, info) => {
  const account = await enrolledAccount(page, info, "remy");
  await signOut(page, info);
  const [first] = account.recoveryCodes;

  await signInWithPassword(page, info, account.email);
  await page.getByLabel("Recovery code").fill(first);
  await page.getByRole("button", { name: "Sign in with a recovery code" }).click();
  await expect(page).toHaveURL(/\/account\/security\?recovery_used=1$/);
  await expect(page.getByRole("status").filter({ hasText: "You signed in with a recovery code. 9 left." })).toBeVisible();
  await expect(page.locator("[data-recovery-left]")).toHaveAttribute("data-recovery-left", "9");
  await signOut(page, info);

  await signInWithPassword(page, info, account.email);
  await page.getByLabel("Recovery code").fill(first);
  await page.getByRole("button", { name: "Sign in with a recovery code" }).click();
  await expect(page.getByRole("alert").filter({ hasText: WRONG_CODE })).toBeVisible();
  await expect(page).toHaveURL(/\/login\/second-factor(\?.*)?$/);

  // another code still works, typed in lower case without dashes
  await ready(page, info);
  await page.getByLabel("Recovery code").fill(account.recoveryCodes[1].replace(/-/g, "").toLowerCase());
  await page.getByRole("button", { name: "Sign in with a recovery code" }).click();
  await expect(page).toHaveURL(/\/account\/security\?recovery_used=1$/);
  await expect(page.getByRole("status").filter({ hasText: "8 left." })).toBeVisible();
});

test("axe: no serious or critical violations on the setup (QR code) and the second-factor step", async ({ page, browser }, info) => {
  const p = await axePage(page, browser, info);
  const email = address("axel", info);
  await signUpWithPassword(p, info, email);
  const app = new Authenticator(await startSetup(p, info));
  if (!hydrated(info)) await expect(p.locator("html")).not.toHaveAttribute("data-hydrated", "true");
  expect(await seriousViolations(p)).toEqual([]);

  // with an error showing, too
  await confirmSetup(p, app.wrong());
  await expect(p.getByRole("alert").filter({ hasText: WRONG_CODE })).toBeVisible();
  await ready(p, info);
  expect(await seriousViolations(p)).toEqual([]);

  await confirmSetup(p, await app.next());
  await expect(p.locator("[data-recovery-codes]")).toBeVisible();
  expect(await seriousViolations(p)).toEqual([]);

  await signOut(p, info);
  await signInWithPassword(p, info, email);
  expect(await seriousViolations(p)).toEqual([]);
  await p.getByLabel("6-digit code").fill(app.wrong());
  await p.getByRole("button", { name: "Continue", exact: true }).click();
  await expect(p.getByRole("alert").filter({ hasText: WRONG_CODE })).toBeVisible();
  await ready(p, info);
  expect(await seriousViolations(p)).toEqual([]);
  if (p !== page) await p.context().close();
});

test("keyboard only: Tab reaches the code field, Enter submits", async ({ page }, info) => {
  const account = await enrolledAccount(page, info, "kay");
  await signOut(page, info);
  await signInWithPassword(page, info, account.email);

  const field = page.getByLabel("6-digit code");
  let reached = false;
  for (let i = 0; i < 30 && !reached; i++) {
    await page.keyboard.press("Tab");
    reached = await field.evaluate((el) => el === document.activeElement);
  }
  expect(reached, "Tab reaches the 6-digit code field").toBe(true);
  await expect(field).toBeFocused();
  await page.keyboard.type(await account.app.next());
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator("[data-account-email]")).toHaveText(account.email);
});

// Security keys: a roaming CTAP2 key (USB, no resident keys, no user verification, touched at once) from the
// DevTools virtual authenticator. WebAuthn needs JavaScript, so only the hydrated project.
async function addSecurityKey(page: Page): Promise<{ cdp: CDPSession; id: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "usb", hasResidentKey: false, hasUserVerification: false, automaticPresenceSimulation: true },
  });
  return { cdp, id: authenticatorId };
}

test("a security key as the second step: add, sign in with it, remove", async ({ page }, info) => {
  test.skip(!hydrated(info), "security keys need JavaScript");
  const key = await addSecurityKey(page);
  const email = address("sky", info);
  await signUpWithPassword(page, info, email);
  await open(page, info, "/account/security");
  await page.getByLabel("Name for the new key (optional)").fill("Blue key");
  await page.getByRole("button", { name: "Add a security key" }).click();
  await expect(page.getByText("Security key added.")).toBeVisible();
  await expect(page.locator('[data-security-key="Blue key"]')).toBeVisible();
  const { credentials } = await key.cdp.send("WebAuthn.getCredentials", { authenticatorId: key.id });
  expect(credentials).toHaveLength(1);
  expect(credentials[0].isResidentCredential).toBe(false);
  await expect(page.locator("[data-recovery-codes] li")).toHaveCount(10);
  expect((await waitForMail(email, 2)).subject).toBe("A security key was added");

  await signOut(page, info);
  await signInWithPassword(page, info, email);
  await page.getByRole("button", { name: "Use security key" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator("[data-account-email]")).toHaveText(email);

  await open(page, info, "/account/security");
  await page.locator('[data-security-key="Blue key"]').getByRole("button", { name: "Remove this key" }).click();
  await expect(page.locator("[data-security-key]")).toHaveCount(0);
  await signOut(page, info);
  await open(page, info, "/login");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/account$/);
});
