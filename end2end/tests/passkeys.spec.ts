import { test, expect, Page, CDPSession } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { code, waitForMail } from "./mail";

// Passkeys in Chromium through the DevTools virtual authenticator: a CTAP2 platform authenticator with
// resident keys and user verification that says yes without a person.
async function addAuthenticator(page: Page): Promise<{ cdp: CDPSession; id: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, id: authenticatorId };
}

// Passkeys offered in the email field's autofill: the virtual authenticator picks one at once, so a page
// with autofill signs in as soon as it loads. To reach the button and the identifier-first offer, tests
// make the browser report that it has no autofill support (as older browsers do).
async function withoutAutofill(page: Page) {
  await page.addInitScript(() => {
    PublicKeyCredential.isConditionalMediationAvailable = async () => false;
  });
}

async function credentialCount(a: { cdp: CDPSession; id: string }): Promise<number> {
  const { credentials } = await a.cdp.send("WebAuthn.getCredentials", { authenticatorId: a.id });
  return credentials.length;
}

function address(name: string): string {
  return `${name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

async function hydrated(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
}

/// Creates a passwordless account with a passkey and confirms its address; ends on /account.
async function signUpWithPasskey(page: Page, email: string) {
  await hydrated(page, "/signup");
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Create account with a passkey" }).click();
  await expect(page).toHaveURL(/\/verify-email$/);
  const mail = await waitForMail(email);
  await page.getByLabel("Code").fill(code(mail));
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator("[data-account-email]")).toHaveText(email);
}

async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/$/);
}

test("sign up with a passkey, then sign in by autofill, with the button and by typing the address", async ({ page }, info) => {
  test.skip(info.project.name !== "hydrated", "passkeys need JavaScript");
  const authenticator = await addAuthenticator(page);
  const email = address("pia");
  await signUpWithPasskey(page, email);
  expect(await credentialCount(authenticator)).toBe(1);
  await signOut(page);

  // autofill (conditional mediation): the passkey is used without any click
  await page.goto("/login");
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator("[data-account-email]")).toHaveText(email);
  await signOut(page);

  await withoutAutofill(page);
  await hydrated(page, "/login");
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator("[data-account-email]")).toHaveText(email);
  await signOut(page);

  // identifier-first: the address's passkey is offered once the field is left
  await hydrated(page, "/login");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).focus();
  await page.getByRole("button", { name: "Use your passkey" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator("[data-account-email]")).toHaveText(email);
});

test("add a second passkey, rename it, remove one; the last one stays", async ({ page }, info) => {
  test.skip(info.project.name !== "hydrated", "passkeys need JavaScript");
  const phone = await addAuthenticator(page);
  const email = address("max");
  await signUpWithPasskey(page, email);

  await page.getByRole("link", { name: /Sign-in and security/ }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sign-in and security");
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await expect(page.locator("[data-passkey]")).toHaveCount(1);
  const axe = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa", "best-practice"]).analyze();
  expect(axe.violations.map((v) => `${v.impact}: ${v.id} ${v.help}`)).toEqual([]);
  // this authenticator already has the account's passkey: it is refused, with a message
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByText("already holds a passkey for your account")).toBeVisible();
  expect(await credentialCount(phone)).toBe(1);

  // a second device
  await phone.cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId: phone.id });
  const laptop = await addAuthenticator(page);
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByText("Passkey added.")).toBeVisible();
  await expect(page.locator("[data-passkey]")).toHaveCount(2);
  expect(await credentialCount(laptop)).toBe(1);
  expect((await waitForMail(email, 2)).subject).toBe("A passkey was added to your account");

  const second = page.locator("[data-passkey]").nth(1);
  await second.getByLabel("Name").fill("Work laptop");
  await second.getByRole("button", { name: "Rename" }).click();
  await expect(page.locator('[data-passkey="Work laptop"]')).toHaveCount(1);

  await page.locator('[data-passkey="Work laptop"]').getByRole("button", { name: "Remove" }).click();
  await expect(page.locator("[data-passkey]")).toHaveCount(1);
  await page.locator("[data-passkey]").first().getByRole("button", { name: "Remove" }).click();
  await expect(page.getByText("This is your only way to sign in")).toBeVisible();
  await expect(page.locator("[data-passkey]")).toHaveCount(1);
});

test("without JavaScript the pages say passkeys need it and offer the other ways", async ({ page }, info) => {
  test.skip(info.project.name !== "no-js", "checks the JavaScript-off rendering");
  await page.goto("/login");
  await expect(page.getByText("Passkeys need JavaScript")).toBeVisible();
  await expect(page.getByRole("button", { name: "Sign in with a passkey" })).toHaveCount(0);
  await expect(page.getByLabel("Password", { exact: true })).toBeVisible();
  await page.goto("/signup");
  await expect(page.getByText("Passkeys need JavaScript")).toBeVisible();
  await expect(page.getByRole("button", { name: "Create account with a passkey" })).toHaveCount(0);
});
