import { test, expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

// Every page the portal serves today. Add new pages here as flows arrive.
const PAGES = ["/", "/signup", "/login", "/verify-email", "/verify-email?token=abc", "/dev/outbox", "/no/such/page"];

async function violations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"])
    .analyze();
  return results.violations.map((v) => `${v.impact}: ${v.id} (${v.nodes.length}) ${v.help}`);
}

for (const path of PAGES) {
  test(`axe finds no WCAG 2.2 AA violations on ${path}`, async ({ page, browser }, info) => {
    if (info.project.name === "hydrated") {
      await page.goto(path);
      await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
      expect(await violations(page)).toEqual([]);
      return;
    }
    // axe itself is JavaScript: scan the server-rendered page with the bundle blocked instead, which is
    // exactly what a browser without JavaScript gets.
    const context = await browser.newContext({ javaScriptEnabled: true });
    const bare = await context.newPage();
    await bare.route(/\/pkg\/.*\.(js|wasm)$/, (route) => route.abort());
    await bare.goto(path);
    await expect(bare.locator("html")).not.toHaveAttribute("data-hydrated", "true");
    expect(await violations(bare)).toEqual([]);
    await context.close();
  });
}
