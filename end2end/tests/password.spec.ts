import { test, expect, Page } from "@playwright/test";
import { code, waitForMail } from "./mail";
import { SMTP_BASE_URL } from "../playwright.config";

// Changing the password on /account/security. The first test runs on the SMTP portal, whose
// `accounts.recent_sign_in_secs` is 60 s (the shortest allowed): it waits until the sign-in is too old for
// sensitive changes (polling the page for the step-up card, not sleeping a fixed time), then shows that the
// change asks to confirm it is you first. One project only: the wait is a minute.

const PASSWORD = "plum tractor velvet harbor 42";
const NEW_PASSWORD = "copper meadow lantern river 58";

function address(name: string, project: string): string {
  return `${name}-${project}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

async function signUpAndConfirm(page: Page, base: string, email: string, source: "outbox" | "smtp") {
  await page.goto(`${base}/signup`);
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Create account", exact: true }).click();
  await expect(page).toHaveURL(/\/verify-email$/);
  const mail = await waitForMail(email, 1, source);
  await page.getByLabel("Code").fill(code(mail));
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page).toHaveURL(/\/account$/);
}

async function signIn(page: Page, base: string, email: string, password: string) {
  await page.goto(`${base}/login`);
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

test("an old sign-in confirms it is you before the password changes", async ({ page }, info) => {
  test.skip(info.project.name !== "no-js", "waits a minute; once is enough");
  test.setTimeout(180_000);
  const email = address("pat", info.project.name);
  await signUpAndConfirm(page, SMTP_BASE_URL, email, "smtp");

  // a minute later the sign-in is no longer recent: the security page asks to confirm it is you
  const confirmHeading = page.getByRole("heading", { name: "Confirm it is you" });
  await expect
    .poll(
      async () => {
        await page.goto(`${SMTP_BASE_URL}/account/security`);
        return confirmHeading.isVisible();
      },
      { timeout: 120_000, intervals: [5_000] },
    )
    .toBe(true);

  // changing the password now is refused with the reason
  await page.getByLabel("New password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("confirm it is you before making this change")).toBeVisible();

  // confirm with the current password, then the change goes through
  await page.getByLabel("Current password").fill(PASSWORD);
  await page.getByRole("button", { name: "Confirm", exact: true }).click();
  await expect(confirmHeading).toBeHidden();
  await page.getByLabel("New password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Your password was changed.")).toBeVisible();
  const notice = await waitForMail(email, 2, "smtp");
  expect(notice.subject).toBe("Your password was changed");

  await page.getByRole("link", { name: "Back to your account" }).click();
  await page.getByRole("button", { name: "Sign out" }).click();
  await signIn(page, SMTP_BASE_URL, email, PASSWORD);
  await expect(page.getByText("That email and password do not match")).toBeVisible();
  await signIn(page, SMTP_BASE_URL, email, NEW_PASSWORD);
  await expect(page).toHaveURL(/\/account$/);
});

test("a fresh sign-in changes the password and signs out the other browser", async ({ page, browser }, info) => {
  test.setTimeout(90_000);
  const email = address("quinn", info.project.name);
  await signUpAndConfirm(page, "", email, "outbox");
  const elsewhere = await browser.newContext({ javaScriptEnabled: info.project.name === "hydrated" });
  const other = await elsewhere.newPage();
  await signIn(other, "", email, PASSWORD);
  await expect(other).toHaveURL(/\/account$/);

  await page.goto("/account/security");
  await expect(page.getByRole("heading", { name: "Confirm it is you" })).toBeHidden();
  await page.getByLabel("New password").fill("short");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("at least 15 characters").first()).toBeVisible();
  await page.getByLabel("New password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Your password was changed.")).toBeVisible();

  await other.goto("/account");
  await expect(other).toHaveURL(/\/login$/);
  await elsewhere.close();
});
