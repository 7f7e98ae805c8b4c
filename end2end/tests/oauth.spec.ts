import { test as base, expect, Browser, Page, TestInfo } from "@playwright/test";
import * as client from "openid-client";
import {
  authorizationUrl,
  discover,
  exchange,
  ISSUER,
  oauthError,
  registerClient,
  RelyingParty,
  verifyAccessToken,
  verifyIdToken,
  verifyLogoutToken,
} from "./oauth-rp";
import { address, axePageSignedIn, open, ready, seriousViolations, PASSWORD, signUpWithPassword } from "./support";

// OAuth 2.0 / OpenID Connect end to end, with a relying party Vestibule did not write (openid-client and
// jose, see oauth-rp.ts): the authorization code flow with PKCE through the hosted pages in Chromium, the
// tokens checked against the JWKS, userinfo, refresh rotation and reuse detection, revocation and
// introspection, /account/apps, and RP-initiated plus back-channel logout. Every hosted page here is a
// plain page or form (the answer is a redirect to another site): both projects.

// each test gets its own app server on 127.0.0.1 (a free port), closed afterwards; pages report what the
// Content-Security-Policy refuses (see `reached`)
const test = base.extend<{ rp: RelyingParty }>({
  page: async ({ page }, use) => {
    watchPolicy(page);
    await use(page);
  },
  // Playwright learns which fixtures this one needs from the destructured first parameter: none
  rp: async ({}, use) => {
    const rp = await RelyingParty.start();
    await use(rp);
    await rp.close();
  },
});

test.describe.configure({ timeout: 120_000 });

/** An app name no parallel test shares. */
function appName(what: string, info: TestInfo): string {
  return `${what} ${info.project.name} ${Math.floor(Math.random() * 1e6)}`;
}

/** On /login, sent there by an app's request: the page names the app; sign in with the password. */
async function signInForApp(page: Page, info: TestInfo, email: string, app: string) {
  await expect(page).toHaveURL(/\/login$/);
  await ready(page, info);
  await expect(page.getByText(`Sign in to continue to ${app}`)).toBeVisible();
  await signIn(page, email);
}

async function signIn(page: Page, email: string) {
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

/** Per page: settles (rejects) at the first thing the browser refuses for the Content-Security-Policy, so a
 *  blocked way back to the app fails at once and says why, instead of waiting out the test's timeout. */
const refusals = new WeakMap<Page, Promise<never>>();

function watchPolicy(page: Page) {
  const refused = new Promise<never>((_, reject) =>
    page.on("console", (msg) => {
      if (msg.type() === "error" && msg.text().includes("Content Security Policy")) {
        reject(new Error(`the browser refused: ${msg.text()}`));
      }
    }),
  );
  refused.catch(() => {}); // handled where it matters: in `reached`
  refusals.set(page, refused);
}

/** The browser reached the app's page `uri` (a redirect from the portal); returns where exactly. */
async function reached(page: Page, uri: string): Promise<URL> {
  const arrived = page.waitForURL((url) => url.href.startsWith(uri));
  const refused = refusals.get(page);
  await (refused ? Promise.race([arrived, refused]) : arrived);
  return new URL(page.url());
}

/** The consent page for `app`, checked with axe when given the browser, answered "Allow". */
async function allow(page: Page, info: TestInfo, app: string, axe?: Browser) {
  await expect(page).toHaveURL(/\/oauth2\/consent$/);
  await ready(page, info);
  await expect(page.getByRole("heading", { name: `${app} wants to use your Vestibule account` })).toBeVisible();
  if (axe) await noSeriousViolations(page, axe, info, "/oauth2/consent");
  await page.getByRole("main").getByRole("button", { name: "Allow", exact: true }).click();
}

/** axe on the page as this project shows it; with JavaScript off, a bare copy of `path` with the same
 *  session (a GET: it changes nothing that waits in the session). */
async function noSeriousViolations(page: Page, browser: Browser, info: TestInfo, path: string) {
  const p = await axePageSignedIn(page, browser, info);
  if (p !== page) await p.goto(path);
  expect(await seriousViolations(p)).toEqual([]);
  if (p !== page) await p.context().close();
}

test("a third-party app: sign-in, consent, tokens against the JWKS, userinfo, refresh, revocation, apps page, logout", async ({
  page,
  browser,
  rp,
}, info) => {
  const app = appName("Photo Album", info);
  const { client_id, client_secret } = registerClient([
    "--name", app,
    "--redirect-uri", rp.callback,
    "--post-logout-uri", rp.signedOut,
    "--auth-method", "basic",
    "--backchannel-logout-uri", rp.backchannel,
  ]);
  expect(client_secret).toEqual(expect.any(String));
  const config = await discover(client_id, client_secret);
  expect(config.serverMetadata().issuer).toBe(ISSUER);

  // an account, then a browser that is not signed in
  const email = address("rp", info);
  await signUpWithPassword(page, info, email);
  await page.context().clearCookies();

  // --- the authorization code flow: sign in, consent, back to the app with a code
  const first = await authorizationUrl(config, rp.callback);
  const startedAt = Math.floor(Date.now() / 1000);
  await page.goto(first.url.href);
  await signInForApp(page, info, email, app);
  await allow(page, info, app, browser);
  const landed = await reached(page, rp.callback);
  expect(landed.searchParams.get("iss")).toBe(ISSUER);
  const tokens = await exchange(config, landed.href, first);
  expect(tokens.token_type.toLowerCase()).toBe("bearer");
  expect(tokens.refresh_token, "offline_access gives a refresh token").toEqual(expect.any(String));

  // the ID token, checked by jose against the published keys
  const id = await verifyIdToken(tokens.id_token as string, client_id);
  expect(id.nonce).toBe(first.nonce);
  expect(id.sub).toEqual(expect.any(String));
  expect(id.sub).toBe(tokens.claims()?.sub);
  expect(id.auth_time).toBeGreaterThanOrEqual(startedAt - 1);
  expect(id.auth_time).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 1);
  expect(id.amr).toContain("pwd");
  expect(id.acr).toBe("aal1");
  expect(id.sid).toEqual(expect.any(String));
  // the access token is a JWT for resource servers (RFC 9068)
  const access = await verifyAccessToken(tokens.access_token);
  expect(access.sub).toBe(id.sub);
  expect(access.client_id).toBe(client_id);
  expect(String(access.scope).split(" ")).toEqual(expect.arrayContaining(["openid", "profile", "email", "offline_access"]));

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, id.sub as string);
  expect(userinfo.email).toBe(email);
  expect(userinfo.email_verified).toBe(true);

  // --- refresh: a new refresh token each time
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string);
  expect(refreshed.refresh_token).toEqual(expect.any(String));
  expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

  // --- revocation of an access token: introspection says inactive, userinfo refuses it
  expect((await client.tokenIntrospection(config, refreshed.access_token)).active).toBe(true);
  await client.tokenRevocation(config, refreshed.access_token);
  expect((await client.tokenIntrospection(config, refreshed.access_token)).active).toBe(false);
  expect(await oauthError(client.fetchUserInfo(config, refreshed.access_token, id.sub as string))).not.toBe("ok");
  // ... and only that token: the grant lives on
  expect((await client.tokenIntrospection(config, refreshed.refresh_token as string)).active).toBe(true);

  // --- reuse of the rotated-out refresh token: refused, and it ends the whole grant
  expect(await oauthError(client.refreshTokenGrant(config, tokens.refresh_token as string))).toBe("invalid_grant");
  expect(await oauthError(client.refreshTokenGrant(config, refreshed.refresh_token as string))).toBe("invalid_grant");
  expect((await client.tokenIntrospection(config, refreshed.refresh_token as string)).active).toBe(false);
  expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(false);

  // --- the consent is remembered: the next request comes straight back with a code
  const second = await authorizationUrl(config, rp.callback);
  await page.goto(second.url.href);
  const again = await exchange(config, (await reached(page, rp.callback)).href, second);
  expect((await verifyIdToken(again.id_token as string, client_id)).sid, "the same sign-in").toBe(id.sid);

  // --- /account/apps lists the app; removing its access ends its tokens
  await open(page, info, "/account/apps");
  await expect(page.getByRole("main").getByText(app)).toBeVisible();
  await noSeriousViolations(page, browser, info, "/account/apps");
  await page.getByRole("main").getByRole("button", { name: /Remove access/ }).click();
  await expect(page.getByRole("main").getByRole("button", { name: /Remove access/ })).toHaveCount(0);
  expect(await oauthError(client.refreshTokenGrant(config, again.refresh_token as string))).toBe("invalid_grant");

  // --- so the consent is asked for again
  const third = await authorizationUrl(config, rp.callback);
  await page.goto(third.url.href);
  await allow(page, info, app);
  const last = await exchange(config, (await reached(page, rp.callback)).href, third);
  const lastId = await verifyIdToken(last.id_token as string, client_id);

  // --- logout with an ID token of this sign-in: no question, back to the app with its state
  await page.goto(
    client.buildEndSessionUrl(config, {
      id_token_hint: last.id_token as string,
      post_logout_redirect_uri: rp.signedOut,
      state: "bye-hinted",
    }).href,
  );
  const back = await reached(page, rp.signedOut);
  expect(back.searchParams.get("state")).toBe("bye-hinted");
  // the app's server hears of it over the back channel, for this very sign-in
  const logout = await verifyLogoutToken(await rp.nextLogoutToken(), client_id);
  expect(logout.sid).toBe(lastId.sid);
  expect(logout.sub).toBe(lastId.sub);
  // the browser is signed out
  await page.goto("/account");
  await expect(page).toHaveURL(/\/login$/);
  // offline_access: the app was allowed to keep access while the person is away, so its grant outlives the
  // sign-out
  expect(await oauthError(client.refreshTokenGrant(config, last.refresh_token as string))).toBe("ok");

  // --- logout without a hint: the portal asks first
  await ready(page, info);
  await signIn(page, email);
  await expect(page).toHaveURL(/\/account$/);
  await page.goto(client.buildEndSessionUrl(config, { post_logout_redirect_uri: rp.signedOut, state: "bye-asked" }).href);
  await expect(page).toHaveURL(/\/oauth2\/logout\/confirm$/);
  await ready(page, info);
  await expect(page.getByRole("main").getByText(`${app} asks to sign you out of Vestibule`)).toBeVisible();
  await noSeriousViolations(page, browser, info, "/oauth2/logout/confirm");
  await page.getByRole("main").getByRole("button", { name: "Sign out", exact: true }).click();
  expect((await reached(page, rp.signedOut)).searchParams.get("state")).toBe("bye-asked");
  await page.goto("/account");
  await expect(page).toHaveURL(/\/login$/);
});

test("a first-party public app with PKCE: no consent, prompt=none answers at once, prompt=login asks again", async ({
  page,
  browser,
  rp,
}, info) => {
  const app = appName("Team Board", info);
  const registered = registerClient(["--name", app, "--redirect-uri", rp.callback, "--public", "--first-party"]);
  expect(registered.client_secret ?? null, "a public client has no secret").toBeNull();
  const config = await discover(registered.client_id);
  const email = address("fp", info);
  await signUpWithPassword(page, info, email);

  // signed in, first-party: the code comes back with no page of the portal's in between
  const plain = await authorizationUrl(config, rp.callback);
  await page.goto(plain.url.href);
  const tokens = await exchange(config, (await reached(page, rp.callback)).href, plain);
  const id = await verifyIdToken(tokens.id_token as string, registered.client_id);
  // this sign-in is the sign-up's, finished by the emailed code
  expect(id.amr).toEqual(["otp"]);
  expect(id.acr).toBe("aal1");

  // prompt=none: the same, silently
  const silent = await authorizationUrl(config, rp.callback, { prompt: "none" });
  await page.goto(silent.url.href);
  const silentTokens = await exchange(config, (await reached(page, rp.callback)).href, silent);
  expect((await verifyIdToken(silentTokens.id_token as string, registered.client_id)).sid).toBe(id.sid);

  // prompt=none in a browser that is not signed in: the app hears login_required, nobody sees a page
  const elsewhere = await browser.newContext({ javaScriptEnabled: info.project.name === "hydrated" });
  const other = await elsewhere.newPage();
  watchPolicy(other);
  const nobody = await authorizationUrl(config, rp.callback, { prompt: "none" });
  await other.goto(nobody.url.href);
  const refused = await reached(other, rp.callback);
  expect(refused.searchParams.get("error")).toBe("login_required");
  expect(refused.searchParams.get("state")).toBe(nobody.state);
  expect(await oauthError(exchange(config, refused.href, nobody))).toBe("login_required");
  await elsewhere.close();

  // prompt=login counts only a sign-in from the request's second on (auth_time has whole seconds): wait
  // for the clock to leave the second of this sign-in, so the request is certain to ask again
  await expect.poll(() => Math.floor(Date.now() / 1000)).toBeGreaterThan(id.auth_time as number);
  const login = await authorizationUrl(config, rp.callback, { prompt: "login" });
  await page.goto(login.url.href);
  await signInForApp(page, info, email, app);
  const fresh = await exchange(config, (await reached(page, rp.callback)).href, login);
  const freshId = await verifyIdToken(fresh.id_token as string, registered.client_id);
  // the same person signing in again in the same browser: the sign-in goes on (its apps stay signed in),
  // freshly authenticated
  expect(freshId.sid).toBe(id.sid);
  expect(freshId.auth_time).toBeGreaterThan(id.auth_time as number);
  expect(freshId.sub).toBe(id.sub);
  expect(freshId.amr).toContain("pwd");

  // a public client refreshes and revokes without a secret
  const refreshed = await client.refreshTokenGrant(config, fresh.refresh_token as string);
  expect(refreshed.refresh_token).not.toBe(fresh.refresh_token);
  await client.tokenRevocation(config, refreshed.refresh_token as string);
  expect(await oauthError(client.refreshTokenGrant(config, refreshed.refresh_token as string))).toBe("invalid_grant");
});
