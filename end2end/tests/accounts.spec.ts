import { test, expect, Page } from "@playwright/test";
import { code, link, waitForMail } from "./mail";

const PASSWORD = "plum tractor velvet harbor 42";

function address(name: string, project: string): string {
  return `${name}-${project}-${Date.now()}@example.com`;
}

async function signUp(page: Page, email: string, password = PASSWORD) {
  await page.goto("/signup");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Create account", exact: true }).click();
}

async function signIn(page: Page, email: string, password: string) {
  await page.goto("/login");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

test("sign up, confirm by code, sign out and sign in again", async ({ page }, info) => {
  const email = address("ann", info.project.name);
  await signUp(page, email);
  await expect(page).toHaveURL(/\/verify-email$/);
  await expect(page.getByText(email).first()).toBeVisible();

  const mail = await waitForMail(email);
  expect(mail.subject).toBe("Confirm your email address");
  await page.getByLabel("Code").fill(code(mail));
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator("[data-account-email]")).toHaveText(email);

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/account");
  await expect(page).toHaveURL(/\/login$/);

  await signIn(page, email, PASSWORD);
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator("[data-account-email]")).toHaveText(email);
});

test("confirm by the link from another browser, then sign in", async ({ page, browser }, info) => {
  const email = address("bo", info.project.name);
  await signUp(page, email);
  await expect(page).toHaveURL(/\/verify-email$/);
  const mail = await waitForMail(email);

  const phone = await browser.newContext({ javaScriptEnabled: info.project.name === "hydrated" });
  const other = await phone.newPage();
  await other.goto(link(mail));
  await other.getByRole("button", { name: "Confirm my email address" }).click();
  await expect(other).toHaveURL(/\/login\?verified=1$/);
  await expect(other.getByRole("status")).toContainText("Your email address is confirmed");
  await signIn(other, email, PASSWORD);
  await expect(other).toHaveURL(/\/account$/);
  await phone.close();
});

test("a new code can be asked for, and only the newest works", async ({ page }, info) => {
  const email = address("dot", info.project.name);
  await signUp(page, email);
  await expect(page).toHaveURL(/\/verify-email$/);
  const first = await waitForMail(email, 1);
  await page.getByRole("button", { name: "Send a new code" }).click();
  await expect(page.getByRole("status")).toContainText("a new message is on its way");
  const second = await waitForMail(email, 2);
  if (code(first) !== code(second)) {
    await page.getByLabel("Code").fill(code(first));
    await page.getByRole("button", { name: "Confirm" }).click();
    await expect(page.getByRole("alert")).toContainText("wrong or has expired");
  }
  await page.getByLabel("Code").fill(code(second));
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page).toHaveURL(/\/account$/);
});

test("weak passwords are refused with a reason at the field", async ({ page }, info) => {
  const email = address("cy", info.project.name);
  await signUp(page, email, "short");
  const field = page.getByLabel("Password", { exact: true });
  await expect(field).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("#field-password-error")).toContainText("at least 15 characters");
  await expect(page.getByLabel("Email address")).toHaveValue(email);
});

test("live password feedback while typing (hydrated)", async ({ page }, info) => {
  test.skip(info.project.name !== "hydrated", "needs JavaScript");
  await page.goto("/signup");
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await page.getByLabel("Email address").fill("dana@example.com");
  await page.getByLabel("Password", { exact: true }).pressSequentially("dana12");
  const feedback = page.locator("[data-password-feedback]");
  await expect(feedback).toContainText("6 of at least 15 characters");
  await expect(feedback).toContainText("before the @");
});

test("a wrong password is refused, and repeated failures are throttled", async ({ page }, info) => {
  const email = address("eve", info.project.name);
  const alert = page.getByRole("alert");
  for (let i = 0; i < 5; i++) {
    await signIn(page, email, `wrong password number ${i}`);
    await expect(alert).toContainText("do not match an account");
  }
  // From the 6th failure on, each wait doubles (2 s, 4 s, 8 s ...): keep guessing until a wait outlasts
  // the time one attempt takes in the browser; a dozen attempts is far more than that needs.
  let throttled = false;
  for (let i = 5; i < 17 && !throttled; i++) {
    await signIn(page, email, `wrong password number ${i}`);
    await expect(alert).toContainText(/do not match an account|Too many attempts/);
    throttled = /Too many attempts\. Try again in \d+ seconds\./.test((await alert.textContent()) ?? "");
  }
  expect(throttled, "a growing wait was asked for").toBe(true);
});

test.describe("with a real SMTP server", () => {
  test.use({ baseURL: "http://localhost:3102" });

  test("the verification message arrives over SMTP and its code works", async ({ page }, info) => {
    const email = address("smtp", info.project.name);
    await signUp(page, email);
    await expect(page).toHaveURL(/\/verify-email$/);
    const mail = await waitForMail(email, 1, "smtp");
    expect(link(mail)).toMatch(/^http:\/\/localhost:3102\/verify-email\?token=/);
    await page.getByLabel("Code").fill(code(mail));
    await page.getByRole("button", { name: "Confirm" }).click();
    await expect(page).toHaveURL(/\/account$/);
  });
});
