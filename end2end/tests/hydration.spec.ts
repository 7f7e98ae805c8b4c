import { test, expect } from "@playwright/test";

// The WebAssembly sets data-hydrated on <html> from an effect, which never runs on the server: the
// attribute appears only if the bundle loaded, passed the CSP, and hydrated the server-rendered page.
test("the page hydrates under the Content-Security-Policy", async ({ page }, info) => {
  test.skip(info.project.name !== "hydrated", "needs JavaScript");
  const problems: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") problems.push(msg.text());
  });
  page.on("pageerror", (err) => problems.push(err.message));

  await page.goto("/");
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  // client-side navigation keeps working after hydration
  await page.getByRole("main").getByRole("link", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sign in");
  expect(problems, "no CSP violations or script errors").toEqual([]);
});

test("without JavaScript the page is complete and never hydrates", async ({ page }, info) => {
  test.skip(info.project.name !== "no-js", "checks the JavaScript-off rendering");
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await expect(page.getByRole("main").getByRole("link", { name: "Create an account" })).toBeVisible();
  await expect(page.locator("html")).not.toHaveAttribute("data-hydrated", "true");
});
