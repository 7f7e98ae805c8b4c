// The relying party of tests/oauth.spec.ts: an app Vestibule did not write. openid-client (a certified
// OpenID Connect client) runs the protocol, jose checks every token against the published JWKS, and a tiny
// Node http server on 127.0.0.1 is the app's callback, post-logout page and back-channel logout receiver.
import { expect } from "@playwright/test";
import { execFileSync } from "node:child_process";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import * as client from "openid-client";
import { createRemoteJWKSet, jwtVerify, JWTPayload } from "jose";
import { BASE_URL, BIN, ROOT, SERVER_ENV } from "../playwright.config";

/** The provider's issuer: the public URL without a trailing slash. */
export const ISSUER = BASE_URL;
const JWKS = createRemoteJWKSet(new URL(`${ISSUER}/oauth2/jwks`));
export const BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout";

/** The app's web server: GET /callback and /signed-out answer a small page (the browser lands there),
 *  POST /backchannel keeps each logout_token it receives. Port 0: parallel tests each get their own. */
export class RelyingParty {
  private constructor(
    private readonly server: http.Server,
    readonly base: string,
    /** What POST /backchannel received, oldest first. */
    readonly logoutTokens: string[],
  ) {}

  static async start(): Promise<RelyingParty> {
    const tokens: string[] = [];
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (req.method === "POST" && url.pathname === "/backchannel") {
        let body = "";
        req.setEncoding("utf8");
        req.on("data", (chunk: string) => (body += chunk));
        req.on("end", () => {
          const token = new URLSearchParams(body).get("logout_token");
          if (token) tokens.push(token);
          // Back-Channel Logout 1.0 section 2.8: 200 with no-store
          res.writeHead(token ? 200 : 400, { "Cache-Control": "no-store" }).end();
        });
        return;
      }
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><html lang="en"><title>Test app</title><main><h1>Test app: ${url.pathname}</h1></main></html>`);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return new RelyingParty(server, `http://127.0.0.1:${port}`, tokens);
  }

  get callback() {
    return `${this.base}/callback`;
  }
  get signedOut() {
    return `${this.base}/signed-out`;
  }
  get backchannel() {
    return `${this.base}/backchannel`;
  }

  /** The next back-channel logout token, waiting for it (the portal sends it in the background). */
  async nextLogoutToken(): Promise<string> {
    await expect.poll(() => this.logoutTokens.length, { message: "a back-channel logout token arrives" }).toBeGreaterThan(0);
    return this.logoutTokens.shift() as string;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Registers an app with `vestibule client create ... --json` on the first portal's data directory; the
 *  JSON is the last line of stdout (log lines may come before it). */
export function registerClient(args: string[]): { client_id: string; client_secret?: string } {
  const out = execFileSync(BIN, ["client", "create", ...args, "--json"], {
    cwd: ROOT,
    env: { ...SERVER_ENV, PATH: process.env.PATH ?? "" },
    encoding: "utf8",
  });
  const lines = out.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

/** openid-client configured from the discovery document; plain http is allowed only because the portal
 *  under test listens on localhost. No secret: a public client (PKCE, `none`). */
export async function discover(clientId: string, secret?: string): Promise<client.Configuration> {
  const auth = secret === undefined ? client.None() : client.ClientSecretBasic(secret);
  return client.discovery(new URL(BASE_URL), clientId, undefined, auth, { execute: [client.allowInsecureRequests] });
}

export type Authorization = { url: URL; verifier: string; state: string; nonce: string };

/** An authorization request with PKCE (S256), state and nonce, as an app builds it. */
export async function authorizationUrl(
  config: client.Configuration,
  redirectUri: string,
  extra: Record<string, string> = {},
): Promise<Authorization> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: "openid profile email offline_access",
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
    ...extra,
  });
  return { url, verifier, state, nonce };
}

/** The code exchange for the URL the browser landed on (openid-client checks state, iss and the ID token's
 *  nonce, aud, iss and times). */
export async function exchange(config: client.Configuration, landed: string, auth: Authorization) {
  return client.authorizationCodeGrant(config, new URL(landed), {
    pkceCodeVerifier: auth.verifier,
    expectedState: auth.state,
    expectedNonce: auth.nonce,
    idTokenExpected: true,
  });
}

/** The ID token checked independently of openid-client: signature against the JWKS, issuer, audience. */
export async function verifyIdToken(token: string, clientId: string): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, JWKS, { issuer: ISSUER, audience: clientId });
  return payload;
}

/** An access token (RFC 9068: typ at+jwt, audience the issuer by default). */
export async function verifyAccessToken(token: string): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, JWKS, { issuer: ISSUER, audience: ISSUER, typ: "at+jwt" });
  return payload;
}

/** A back-channel logout token (Back-Channel Logout 1.0 section 2.4: typ logout+jwt, the event, no nonce). */
export async function verifyLogoutToken(token: string, clientId: string): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, JWKS, { issuer: ISSUER, audience: clientId, typ: "logout+jwt" });
  expect(payload.events).toEqual({ [BACKCHANNEL_EVENT]: {} });
  expect(payload.nonce).toBeUndefined();
  expect(typeof payload.jti).toBe("string");
  return payload;
}

/** The OAuth error code a token-endpoint call fails with (openid-client's ResponseBodyError), or "ok". */
export async function oauthError(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "ok";
  } catch (e) {
    return (e as { error?: string }).error ?? String(e);
  }
}
