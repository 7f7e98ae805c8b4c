import { test, expect, Page, TestInfo } from "@playwright/test";
import { PROFILE_BASE_URL } from "../playwright.config";
import { code, waitForMail } from "./mail";
import { address, axePage, ready, seriousViolations } from "./support";

// The profile at /account with operator-defined attributes, and progressive profiling. These run on the
// profile portal (end2end/profile-portal.toml): a text, number, checkbox, date and select attribute, one
// attribute only operators set, and a required "Employee number", so every sign-up is asked for it once at
// /account/complete-profile. Both projects: hydrated and JavaScript off.

const PASSWORD = "plum tractor velvet harbor 42";

test.use({ baseURL: PROFILE_BASE_URL });
test.describe.configure({ timeout: 90_000 });

/** Signs up and confirms the address; the sign-in that follows lands on the question. */
async function signUpToTheQuestion(page: Page, info: TestInfo, email: string) {
  await page.goto("/signup");
  await ready(page, info);
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Create account", exact: true }).click();
  await expect(page).toHaveURL(/\/verify-email$/);
  const mail = await waitForMail(email, 1, "smtp");
  await page.getByLabel("Code").fill(code(mail));
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page).toHaveURL(/\/account\/complete-profile$/);
  await expect(page.getByRole("heading", { name: "A few more details" })).toBeVisible();
  await ready(page, info);
}

test("edit the profile with custom attributes; the values stay; a wrong value is shown at its field", async ({ page }, info) => {
  const email = address("pia", info);
  await signUpToTheQuestion(page, info, email);
  // only the missing required attribute is asked; "Not now" continues to the account
  await expect(page.getByLabel("Employee number")).toBeVisible();
  await expect(page.getByLabel("Company")).toHaveCount(0);
  await page.getByRole("link", { name: "Not now" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator("[data-account-email]")).toHaveText(email);
  await ready(page, info);

  await page.getByLabel("Display name").fill("Pia P.");
  await page.getByLabel("Given name").fill("Pia");
  await page.getByLabel("Family name").fill("Park");
  await page.getByLabel("Preferred language").selectOption({ label: "Deutsch" });
  await page.getByLabel("Time zone").selectOption("Europe/Berlin");
  await page.getByLabel("Employee number").fill("E0042");
  await page.getByLabel("Company", { exact: true }).fill("Acme & Co.");
  await page.getByLabel("Seats").fill("12");
  await page.getByLabel("Send me the newsletter").check();
  await page.getByLabel("Birthday").fill("1990-05-17");
  await page.getByLabel("T-shirt size").selectOption({ label: "Medium" });
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByText("Your profile was saved.")).toBeVisible();
  await expect(page).toHaveURL(/\/account\?saved=1$/);

  // after a reload the page shows what was saved
  await page.goto("/account");
  await ready(page, info);
  await expect(page.getByLabel("Display name")).toHaveValue("Pia P.");
  await expect(page.getByLabel("Family name")).toHaveValue("Park");
  await expect(page.getByLabel("Preferred language")).toHaveValue("de");
  await expect(page.getByLabel("Time zone")).toHaveValue("Europe/Berlin");
  await expect(page.getByLabel("Company", { exact: true })).toHaveValue("Acme & Co.");
  await expect(page.getByLabel("Seats")).toHaveValue("12");
  await expect(page.getByLabel("Send me the newsletter")).toBeChecked();
  await expect(page.getByLabel("Birthday")).toHaveValue("1990-05-17");
  await expect(page.getByLabel("T-shirt size")).toHaveValue("m");
  // the attribute only operators set is shown, not offered for editing
  await expect(page.locator("[data-attribute=tier]")).toHaveText("Not set");
  await expect(page.getByLabel("Customer tier")).toHaveCount(0);

  // a value the rule refuses: the message at the field, the typed value kept, nothing saved
  const company = page.getByLabel("Company", { exact: true });
  await company.fill("Acme/Evil");
  await page.getByLabel("Send me the newsletter").uncheck();
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.locator("#field-attributes-company-error")).toHaveText("This is not in the expected format.");
  await expect(company).toHaveAttribute("aria-invalid", "true");
  await expect(company).toHaveValue("Acme/Evil");
  await expect(page.getByText("Your profile was saved.")).toHaveCount(0);
  await page.goto("/account");
  await ready(page, info);
  await expect(page.getByLabel("Company", { exact: true })).toHaveValue("Acme & Co.");
  await expect(page.getByLabel("Send me the newsletter")).toBeChecked();
});

test("the question after sign-in: filling it in saves it, and it is not asked again", async ({ page }, info) => {
  const email = address("quinn", info);
  await signUpToTheQuestion(page, info, email);
  const field = page.getByLabel("Employee number");
  await field.fill("12");
  await page.getByRole("button", { name: "Save and continue" }).click();
  await expect(page.locator("#field-attributes-employee_id-error")).toHaveText("This is not in the expected format.");
  await expect(page).toHaveURL(/\/account\/complete-profile(\?.*)?$/);
  await ready(page, info);
  await page.getByLabel("Employee number").fill("E1234");
  await page.getByRole("button", { name: "Save and continue" }).click();
  await expect(page).toHaveURL(/\/account\?saved=1$/);
  await expect(page.getByText("Your profile was saved.")).toBeVisible();
  await expect(page.getByLabel("Employee number")).toHaveValue("E1234");

  // signing in again goes straight to the account
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/login");
  await ready(page, info);
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator("[data-account-email]")).toHaveText(email);
});

test("axe: no serious or critical violations on /account/complete-profile and /account with errors", async ({ page, browser, baseURL }, info) => {
  const p = await axePage(page, browser, info, baseURL);
  const email = address("axe", info);
  await signUpToTheQuestion(p, info, email);
  const found: string[] = [];
  found.push(...(await seriousViolations(p)));
  await p.getByRole("link", { name: "Not now" }).click();
  await expect(p).toHaveURL(/\/account$/);
  await ready(p, info);
  found.push(...(await seriousViolations(p)));
  await p.getByLabel("Employee number").fill("E0001");
  await p.getByLabel("Company", { exact: true }).fill("Bad/Name");
  await p.getByRole("button", { name: "Save profile" }).click();
  await expect(p.locator("#field-attributes-company-error")).toBeVisible();
  found.push(...(await seriousViolations(p)));
  expect(found).toEqual([]);
});
