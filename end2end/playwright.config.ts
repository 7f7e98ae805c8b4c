import { defineConfig } from "@playwright/test";
import * as path from "node:path";

// The release binary built by `cargo leptos build --release`, on a throwaway data directory, in dev mode
// (mail goes to the outbox). Port 3100 so a portal started by scripts/run on 3000 does not interfere.
export const PORT = 3100;
export const BASE_URL = `http://localhost:${PORT}`;
export const ROOT = path.resolve(__dirname, "..");
export const DATA_DIR = path.join(ROOT, "target", "e2e-data");
export const BIN = path.join(ROOT, "target", "release", "vestibule");
export const SMTP_PORT = 3102;
export const SMTP_BASE_URL = `http://localhost:${SMTP_PORT}`;
export const SMTP_DATA_DIR = path.join(ROOT, "target", "e2e-data-smtp");
// the profile portal: operator-defined profile attributes from end2end/profile-portal.toml, one of them
// required (tests/profile.spec.ts); mail over SMTP to maildev like the second portal
export const PROFILE_PORT = 3104;
export const PROFILE_BASE_URL = `http://localhost:${PROFILE_PORT}`;
export const PROFILE_DATA_DIR = path.join(ROOT, "target", "e2e-data-profile");
export const MAILDEV_SMTP = 1025;
export const MAILDEV_WEB = 1080;
export const SERVER_ENV = {
  VESTIBULE_BIND: `127.0.0.1:${PORT}`,
  VESTIBULE_PUBLIC_URL: BASE_URL,
  VESTIBULE_DATA_DIR: DATA_DIR,
  VESTIBULE_SITE_ROOT: path.join(ROOT, "target", "site"),
  VESTIBULE_DEV_MODE: "true",
  VESTIBULE_LOG_FILTER: "warn",
  // every request of the suite comes from 127.0.0.1: without this, the 21st emailed code of a run (default
  // 20 per IP and day) would wait for the per-IP cooldown
  VESTIBULE_LIMITS__MAIL_PER_IP_PER_DAY: "100000",
  // likewise wrong passwords and codes from 127.0.0.1 (the per-address throttle still applies)
  VESTIBULE_LIMITS__FAILURES_PER_IP_PER_DAY: "100000",
  // a deletion is due at once, so account_data.spec.ts can erase with `vestibule purge` right away (no other
  // spec deletes an account on this portal; the SMTP portal below keeps the default grace period)
  VESTIBULE_ACCOUNTS__DELETION_GRACE_SECS: "0",
};

// Debian's Chromium, never a downloaded browser. The flags keep it from reaching for the network, which
// this machine does not have.
const chromium = {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  use: {
    baseURL: BASE_URL,
    browserName: "chromium",
    launchOptions: chromium,
    trace: "retain-on-failure",
  },
  projects: [
    { name: "hydrated", use: { javaScriptEnabled: true } },
    { name: "no-js", use: { javaScriptEnabled: false } },
  ],
  webServer: [
    {
      // dev mode, mail to the outbox
      command: `rm -rf "${DATA_DIR}" && exec "${BIN}" serve`,
      cwd: ROOT,
      // tests/oauth.spec.ts's app receives back-channel logout tokens on 127.0.0.1, which the portal refuses to
      // call by default (security.md: no server-side requests into private networks); only this portal
      env: { ...SERVER_ENV, VESTIBULE_OAUTH__ALLOW_PRIVATE_NETWORK: "true" },
      url: `${BASE_URL}/readyz`,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: "pipe",
      stderr: "pipe",
    },
    {
      // a real SMTP server (maildev) that the second portal delivers to
      command: `npx maildev --ip 127.0.0.1 --smtp ${MAILDEV_SMTP} --web ${MAILDEV_WEB} --web-ip 127.0.0.1 --silent`,
      url: `http://127.0.0.1:${MAILDEV_WEB}/email`,
      timeout: 30_000,
      reuseExistingServer: false,
    },
    {
      // production mode, mail over SMTP
      command: `rm -rf "${SMTP_DATA_DIR}" && exec "${BIN}" serve`,
      cwd: ROOT,
      env: {
        ...SERVER_ENV,
        VESTIBULE_BIND: `127.0.0.1:${SMTP_PORT}`,
        VESTIBULE_PUBLIC_URL: SMTP_BASE_URL,
        VESTIBULE_DATA_DIR: SMTP_DATA_DIR,
        VESTIBULE_DEV_MODE: "false",
        VESTIBULE_SMTP__HOST: "127.0.0.1",
        VESTIBULE_SMTP__PORT: String(MAILDEV_SMTP),
        VESTIBULE_SMTP__SECURITY: "plain",
        VESTIBULE_SMTP__FROM: "Vestibule <no-reply@localhost>",
        // the shortest recent-sign-in window, so password.spec.ts can reach a sign-in too old for changes
        VESTIBULE_ACCOUNTS__RECENT_SIGN_IN_SECS: "60",
        // a week, the default: account_data.spec.ts cancels a deletion here by signing in
        VESTIBULE_ACCOUNTS__DELETION_GRACE_SECS: "604800",
      },
      url: `${SMTP_BASE_URL}/readyz`,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: "pipe",
      stderr: "pipe",
    },
    {
      // the profile portal (PROFILE_PORT): production mode, mail over SMTP, attributes from a TOML file
      command: `rm -rf "${PROFILE_DATA_DIR}" && exec "${BIN}" serve`,
      cwd: ROOT,
      env: {
        ...SERVER_ENV,
        VESTIBULE_CONFIG: path.join(ROOT, "end2end", "profile-portal.toml"),
        VESTIBULE_BIND: `127.0.0.1:${PROFILE_PORT}`,
        VESTIBULE_PUBLIC_URL: PROFILE_BASE_URL,
        VESTIBULE_DATA_DIR: PROFILE_DATA_DIR,
        VESTIBULE_DEV_MODE: "false",
        VESTIBULE_SMTP__HOST: "127.0.0.1",
        VESTIBULE_SMTP__PORT: String(MAILDEV_SMTP),
        VESTIBULE_SMTP__SECURITY: "plain",
        VESTIBULE_SMTP__FROM: "Vestibule <no-reply@localhost>",
      },
      url: `${PROFILE_BASE_URL}/readyz`,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: "pipe",
      stderr: "pipe",
    },
  ],
});
