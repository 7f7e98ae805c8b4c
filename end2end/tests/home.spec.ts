import { test, expect } from "@playwright/test";

test("home page leads to sign-up and sign-in", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("One account for every app you use with us");
  await expect(page).toHaveTitle("Welcome · Vestibule");

  await page.getByRole("main").getByRole("link", { name: "Create an account" }).click();
  await expect(page).toHaveURL(/\/signup$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Create account");

  await page.goto("/");
  await page.getByRole("main").getByRole("link", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sign in");
});

test("keyboard users reach the content with the skip link", async ({ page }) => {
  await page.goto("/");
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to content" });
  await expect(skip).toBeFocused();
  await expect(skip).toBeVisible(); // shown when focused
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/#content$/);
  await expect(page.locator("main#content")).toBeFocused();
});

test("every page carries the security headers, with a fresh CSP nonce", async ({ page }) => {
  const first = await page.goto("/");
  const headers = first!.headers();
  const csp = headers["content-security-policy"];
  expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9_-]{22,}' 'strict-dynamic' 'wasm-unsafe-eval'/);
  expect(csp).toContain("frame-ancestors 'none'");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["referrer-policy"]).toBe("same-origin");
  expect(headers["cross-origin-opener-policy"]).toBe("same-origin");
  expect(headers["cache-control"]).toBe("no-store");
  expect(headers["x-operation-id"]).toMatch(/^[0-9a-f-]{36}$/);
  const second = await page.goto("/");
  expect(second!.headers()["content-security-policy"]).not.toBe(csp);
});

test("an unknown address answers 404 with a way back", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response!.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Page not found");
  await page.getByRole("link", { name: "Back to the start page" }).click();
  await expect(page).toHaveURL(/\/$/);
});
