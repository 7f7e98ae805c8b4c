import { test, expect } from "@playwright/test";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { ROOT, SERVER_ENV } from "../playwright.config";

// `vestibule mail-test` with the server's settings writes to the same outbox the page lists.
test("the dev outbox lists mail the portal wrote, escaped", async ({ page }, info) => {
  const to = `e2e-${info.project.name}@example.com`;
  execFileSync(path.join(ROOT, "target", "release", "vestibule"), ["mail-test", "--to", to, "--note", "<b>e2e</b>"], {
    env: { ...process.env, ...SERVER_ENV },
  });
  await page.goto("/dev/outbox");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Dev outbox");
  const row = page.getByRole("row").filter({ hasText: to });
  await expect(row).toContainText("Vestibule test message");
});
