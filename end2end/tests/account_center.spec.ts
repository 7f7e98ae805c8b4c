import { test, expect, Page, TestInfo } from "@playwright/test";
import { address, hydrated, ready, seriousViolations, PASSWORD, signUpWithPassword } from "./support";

// The account center so far: where you are signed in (/account/sessions: sign out another browser, from a
// second browser context) and recent activity (/account/activity). Plain forms: both projects.


test.describe.configure({ timeout: 90_000 });


async function signIn(page: Page, info: TestInfo, email: string, password: string) {
  await page.goto("/login");
  await ready(page, info);
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/account$/);
}

test("sign out another browser from the sessions page", async ({ page, browser }, info) => {
  const email = address("sid", info);
  await signUpWithPassword(page, info, email);
  const phone = await browser.newContext({
    javaScriptEnabled: hydrated(info),
    userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
  });
  const other = await phone.newPage();
  await signIn(other, info, email, PASSWORD);

  await page.getByRole("link", { name: "Where you are signed in" }).click();
  await expect(page).toHaveURL(/\/account\/sessions$/);
  await ready(page, info);
  const firefox = page.locator("li", { hasText: "Firefox on Linux" });
  await expect(firefox).toBeVisible();
  await expect(page.locator("[data-session-current]")).toContainText("This browser");
  if (hydrated(info)) expect(await seriousViolations(page)).toEqual([]);

  await firefox.getByRole("button", { name: "Sign out this browser" }).click();
  await expect(page.getByText("Signed out. That browser has to sign in again.")).toBeVisible();
  await expect(page.locator("li", { hasText: "Firefox on Linux" })).toHaveCount(0);
  await other.goto("/account");
  await expect(other).toHaveURL(/\/login$/);
  await phone.close();
});

test("recent activity lists sign-ins and failed attempts", async ({ page, browser }, info) => {
  const email = address("ada", info);
  await signUpWithPassword(page, info, email);
  // a failed attempt from another browser
  const elsewhere = await browser.newContext({ javaScriptEnabled: hydrated(info) });
  const other = await elsewhere.newPage();
  await other.goto("/login");
  await ready(other, info);
  await other.getByLabel("Email address").fill(email);
  await other.getByLabel("Password", { exact: true }).fill("not the right password at all");
  await other.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(other.getByText("That email and password do not match")).toBeVisible();
  await elsewhere.close();

  await page.getByRole("link", { name: "Recent activity" }).click();
  await expect(page).toHaveURL(/\/account\/activity$/);
  const events = page.locator("[data-activity] li");
  await expect(events.first()).toContainText("Failed sign-in attempt");
  await expect(page.locator("[data-activity]")).toContainText("Email address confirmed");
  await expect(page.locator("[data-activity]")).toContainText("Account created");
  if (hydrated(info)) expect(await seriousViolations(page)).toEqual([]);
});
