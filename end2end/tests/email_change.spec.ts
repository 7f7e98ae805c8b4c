import { test, expect, Page, Locator, TestInfo } from "@playwright/test";
import { code, Mail, waitForSubject } from "./mail";
import { address, axePage, hydrated, open, ready, seriousViolations, PASSWORD, signUpWithPassword } from "./support";

// Changing the account's address on /account/email: a code (or the link) sent to the new address makes it
// the account's address; the old address is told; the password then goes with the new address. Plain
// forms, so every test runs in both projects (hydrated and JavaScript off), except the keyboard pass.
//
// Each new address gets at most one message: a second one to the same address waits a minute.

const CODE_SUBJECT = "Confirm your new email address";
const CHANGED_SUBJECT = "Your email address was changed";
const TAKEN_SUBJECT = "Request to move an account to your address";
const INVALID_CODE = "That code is wrong or has expired";

// Each test signs up and signs in (deliberately slow hashes): more than the default 30 s on a busy machine.
test.describe.configure({ timeout: 90_000 });


async function signInWithPassword(page: Page, info: TestInfo, email: string) {
  await open(page, info, "/login");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

/** On /account/email: asks for a code to `to`; ends on the code form. */
async function askFor(page: Page, info: TestInfo, to: string) {
  await page.getByLabel("New email address").fill(to);
  await page.getByRole("button", { name: "Send a code to the new address" }).click();
  await expect(page.getByText(`We sent a 6-digit code and a link to ${to}.`)).toBeVisible();
  await ready(page, info);
}

/** The change message's link (to /account/email with its token). */
function changeLink(mail: Mail): string {
  const match = mail.text.match(/https?:\/\/[^\s/]+\/account\/email\?token=[A-Za-z0-9_-]+/);
  if (!match) throw new Error(`no /account/email link in: ${mail.text}`);
  return match[0];
}

async function expectChanged(page: Page, to: string) {
  await expect(page).toHaveURL(/\/account\/email\?changed=1$/);
  await expect(page.getByRole("status").filter({ hasText: `Your email address is now ${to}.` })).toBeVisible();
  await expect(page.locator("[data-current-email]")).toHaveText(to);
}

test("change the address with the code: the old address is told, the new one signs in", async ({ page }, info) => {
  const old = address("ivy", info);
  const next = address("ivy-new", info);
  await signUpWithPassword(page, info, old);

  await open(page, info, "/account/email");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Change your email address");
  await expect(page.locator("[data-current-email]")).toHaveText(old);
  await askFor(page, info, next);
  // nothing changed yet
  await expect(page.locator("[data-current-email]")).toHaveText(old);

  const mail = await waitForSubject(next, CODE_SUBJECT);
  expect(changeLink(mail)).toMatch(/^http:\/\/localhost:3100\/account\/email\?token=/);
  await page.getByLabel("Code").fill(code(mail));
  await page.getByRole("button", { name: "Change my address" }).click();
  await expectChanged(page, next);

  const notice = await waitForSubject(old, CHANGED_SUBJECT);
  expect(notice.text).toContain("i***@e***.com");
  expect(notice.text).not.toContain(next);

  await open(page, info, "/account");
  await expect(page.locator("[data-account-email]")).toHaveText(next);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/$/);
  await signInWithPassword(page, info, old);
  await expect(page.getByText("That email and password do not match")).toBeVisible();
  await signInWithPassword(page, info, next);
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator("[data-account-email]")).toHaveText(next);
});

test("the mail's link opened in another browser asks for the code too", async ({ page, browser, baseURL }, info) => {
  const old = address("jade", info);
  const next = address("jade-new", info);
  await signUpWithPassword(page, info, old);
  await open(page, info, "/account/email");
  await askFor(page, info, next);
  const mail = await waitForSubject(next, CODE_SUBJECT);

  // the phone, signed in to the same account, opens the link
  const phone = await browser.newContext({ javaScriptEnabled: hydrated(info), baseURL });
  const other = await phone.newPage();
  await signInWithPassword(other, info, old);
  await expect(other).toHaveURL(/\/account$/);
  await open(other, info, changeLink(mail));
  await expect(other.getByText("This link was asked for in another browser.")).toBeVisible();
  await other.getByLabel("Code").fill(String((Number(code(mail)) + 1) % 1_000_000).padStart(6, "0"));
  await other.getByRole("button", { name: "Change my address" }).click();
  await expect(other.getByRole("alert")).toContainText(INVALID_CODE);
  await ready(other, info);
  await other.getByLabel("Code").fill(code(mail));
  await other.getByRole("button", { name: "Change my address" }).click();
  await expectChanged(other, next);
  await phone.close();

  // the first browser stays signed in and shows the new address
  await open(page, info, "/account/email");
  await expect(page.locator("[data-current-email]")).toHaveText(next);
  await waitForSubject(old, CHANGED_SUBJECT);
});

test("an address that has an account gets the same answer, and its owner a notice without a code", async ({ page, browser, baseURL }, info) => {
  const owner = address("kim", info);
  const asker = address("lou", info);
  const elsewhere = await browser.newContext({ javaScriptEnabled: hydrated(info), baseURL });
  await signUpWithPassword(await elsewhere.newPage(), info, owner);
  await elsewhere.close();
  await signUpWithPassword(page, info, asker);

  await open(page, info, "/account/email");
  await askFor(page, info, owner);
  const told = await waitForSubject(owner, TAKEN_SUBJECT);
  expect(told.text).not.toMatch(/\b\d{6}\b/);
  expect(told.text).not.toContain("token=");
  await page.getByLabel("Code").fill("123456");
  await page.getByRole("button", { name: "Change my address" }).click();
  await expect(page.getByRole("alert")).toContainText(INVALID_CODE);
  await expect(page.locator("[data-current-email]")).toHaveText(asker);
});

/** Presses Tab until `target` has the focus (at most `max` times). */
async function tabTo(page: Page, target: Locator, max = 40) {
  let reached = false;
  for (let i = 0; i < max && !reached; i++) {
    await page.keyboard.press("Tab");
    reached = await target.evaluate((el) => el === document.activeElement);
  }
  expect(reached, `Tab reaches ${target}`).toBe(true);
}

test("keyboard only: new address → code → changed", async ({ page }, info) => {
  test.skip(!hydrated(info), "one keyboard pass, in the hydrated project");
  const old = address("max", info);
  const next = address("max-new", info);
  await signUpWithPassword(page, info, old);
  await open(page, info, "/account/email");
  const field = page.getByLabel("New email address");
  await tabTo(page, field);
  await page.keyboard.type(next);
  await page.keyboard.press("Enter");
  await expect(page.getByText(`We sent a 6-digit code and a link to ${next}.`)).toBeVisible();
  await tabTo(page, page.getByLabel("Code"));
  await page.keyboard.type(code(await waitForSubject(next, CODE_SUBJECT)));
  await page.keyboard.press("Enter");
  await expectChanged(page, next);
});

test("axe: no serious or critical violations on /account/email (address, code, error, link, changed)", async ({ page, browser, baseURL }, info) => {
  const p = await axePage(page, browser, info, baseURL);
  const old = address("nia", info);
  const next = address("nia-new", info);
  await signUpWithPassword(p, info, old);
  const found: string[] = [];

  await open(p, info, "/account/email");
  await expect(p.getByLabel("New email address")).toBeVisible();
  if (!hydrated(info)) await expect(p.locator("html")).not.toHaveAttribute("data-hydrated", "true");
  found.push(...(await seriousViolations(p)));
  await askFor(p, info, next);
  found.push(...(await seriousViolations(p)));
  const right = code(await waitForSubject(next, CODE_SUBJECT));
  await p.getByLabel("Code").fill(String((Number(right) + 1) % 1_000_000).padStart(6, "0"));
  await p.getByRole("button", { name: "Change my address" }).click();
  await expect(p.getByRole("alert")).toContainText(INVALID_CODE);
  await ready(p, info);
  found.push(...(await seriousViolations(p)));
  await open(p, info, "/account/email?token=not-a-real-token");
  await expect(p.getByRole("button", { name: "Change my address" })).toBeVisible();
  found.push(...(await seriousViolations(p)));

  await open(p, info, "/account/email");
  await p.getByLabel("Code").fill(right);
  await p.getByRole("button", { name: "Change my address" }).click();
  await expectChanged(p, next);
  await ready(p, info);
  found.push(...(await seriousViolations(p)));

  expect(found).toEqual([]);
  if (p !== page) await p.context().close();
});
