/**
 * The browser side of the UI tests: Debian's `chromium` driven by playwright-core (no browser
 * download; CI installs the package with apt), pages that record everything a hostile feed text
 * could make them do, axe-core run under the service's real Content-Security-Policy, and
 * screenshots as test artifacts.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import * as z from 'zod';
import { repoRoot } from './shared-data.js';
import { hasTool, toolsRequired } from './tools.js';

/** The chromium binary: $PORTCULLIS_CHROMIUM, else Debian's package's. */
export function chromiumPath(): string {
  const override = process.env.PORTCULLIS_CHROMIUM ?? '';
  return override !== '' ? override : '/usr/bin/chromium';
}

/**
 * For `describe(name, { skip: skipWithoutChromium() }, ...)`: false when chromium runs here;
 * otherwise the reason to skip, or (with PORTCULLIS_REQUIRE_TOOLS, as in CI) a thrown failure, as
 * for the other tools the tests need.
 */
export function skipWithoutChromium(): false | string {
  if (hasTool(chromiumPath())) return false;
  const reason = `${chromiumPath()} does not run (Debian package chromium, or set PORTCULLIS_CHROMIUM); the UI tests drive it`;
  if (toolsRequired()) throw new Error(`${reason}, and PORTCULLIS_REQUIRE_TOOLS is set`);
  return reason;
}

/**
 * Flags for a closed network and a shared CI machine: without the background-networking ones
 * Chromium keeps dialling Google's services (component updates, sync, safe browsing) and its
 * refused connections show up as noise; --no-sandbox because CI runs as root in a container.
 */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Launches headless chromium (close it in `after()`). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
}

/** A dialog a page opened (it was dismissed). */
export interface SeenDialog {
  type: string;
  message: string;
  url: string;
}

/** A page (in its own context) with everything it did that a test may need to refuse. */
export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** alert/confirm/prompt/beforeunload dialogs opened by any page of the context (each dismissed). */
  readonly dialogs: SeenDialog[];
  /** `console.error` messages (CSP violations are reported here too). */
  readonly consoleErrors: string[];
  /** Uncaught exceptions in any page of the context. */
  readonly pageErrors: string[];
  /** Requests to anything but the service's origin (aborted; data:, blob: and about: are not requests). */
  readonly foreignRequests: string[];
  /** Pages opened beside the first (window.open, target=_blank), by URL. */
  readonly popups: string[];
  /**
   * Whether `window.__pwned` (the canary every payload of the XSS corpus sets) is set in any frame
   * of any page of the context: a `javascript:` iframe runs in its own window, not the top one.
   */
  pwned(): Promise<boolean>;
  close(): Promise<void>;
}

/** Options of {@link newWatchedPage}. */
export interface WatchedPageOptions {
  /** The service's URL: relative `page.goto` paths resolve against it and it is the only origin allowed. */
  baseURL: string;
  viewport?: { width: number; height: number };
}

/** 1280 x 800: the desktop width the issue names; {@link PHONE} the narrow one. */
export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

/**
 * A new context and page that records what a page must not do. No bypassCSP: the service's
 * Content-Security-Policy is part of what the XSS tests prove.
 */
export async function newWatchedPage(browser: Browser, options: WatchedPageOptions): Promise<WatchedPage> {
  const origin = new URL(options.baseURL).origin;
  const context = await browser.newContext({ baseURL: options.baseURL, viewport: options.viewport ?? DESKTOP, bypassCSP: false, serviceWorkers: 'block' });
  const dialogs: SeenDialog[] = [];
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  const foreignRequests: string[] = [];
  const popups: string[] = [];
  context.on('dialog', (dialog) => {
    dialogs.push({ type: dialog.type(), message: dialog.message(), url: dialog.page()?.url() ?? '' });
    dialog.dismiss().catch(() => undefined);
  });
  context.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  context.on('weberror', (error) => pageErrors.push(String(error.error())));
  const isForeign = (url: URL): boolean => /^(https?|wss?|ftp):$/.test(url.protocol) && url.origin !== origin;
  // Aborted rather than let through: the network is closed anyway, and a request that hangs until
  // it times out would only slow the test down.
  await context.route(isForeign, (route) => {
    foreignRequests.push(route.request().url());
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  context.on('page', (other) => {
    if (other !== page) popups.push(other.url());
  });
  const pwned = async (): Promise<boolean> => {
    for (const each of context.pages()) {
      for (const frame of each.frames()) {
        const value = await frame.evaluate('Boolean(globalThis.__pwned)').catch(() => false);
        if (z.boolean().parse(value)) return true;
      }
    }
    return false;
  };
  return { page, context, dialogs, consoleErrors, pageErrors, foreignRequests, popups, pwned, close: () => context.close() };
}

/**
 * Signs `user` in through the API (`POST /api/v1/session`) with the context's own request client,
 * so the session cookie lands in the context's cookie jar: for page tests that are not about the
 * sign-in form. Returns the CSRF token the session's state-changing requests need.
 */
export async function signInByApi(watched: WatchedPage, user: { name: string; password: string }): Promise<{ csrfToken: string; role: string }> {
  const res = await watched.context.request.post('/api/v1/session', { data: { username: user.name, password: user.password } });
  if (res.status() !== 200) throw new Error(`sign-in of ${user.name} answered ${res.status()}: ${await res.text()}`);
  const body = z.object({ user: z.object({ role: z.string() }), csrfToken: z.string() }).parse(await res.json());
  return { csrfToken: body.csrfToken, role: body.user.role };
}

/** One axe-core violation of impact serious or critical. */
export interface AccessibilityViolation {
  id: string;
  impact: 'serious' | 'critical';
  help: string;
  helpUrl: string;
  /** CSS selectors of the offending elements. */
  targets: string[];
}

const axeViolationsSchema = z.array(
  z.object({
    id: z.string(),
    impact: z.string().nullish(),
    help: z.string(),
    helpUrl: z.string(),
    nodes: z.array(z.object({ target: z.array(z.unknown()) })),
  }),
);

let axeSource: string | undefined;

function readAxeSource(): string {
  if (axeSource === undefined) axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  return axeSource;
}

/**
 * Runs axe-core on the page as it stands and returns its serious and critical violations. axe is
 * put in through the DevTools protocol (page.evaluate of its source), which the page's CSP does
 * not govern: `page.addScriptTag({content})` would be an inline script, refused by the service's
 * `script-src 'self'`, and weakening the policy for the test would test another page.
 */
export async function checkAccessibility(page: Page): Promise<AccessibilityViolation[]> {
  const loaded = await page.evaluate('typeof globalThis.axe === "object"');
  if (!z.boolean().parse(loaded)) await page.evaluate(`${readAxeSource()}\n;void 0`);
  const raw: unknown = await page.evaluate(
    `globalThis.axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, nodes: v.nodes.map((n) => ({ target: n.target })) })))`,
  );
  const violations: AccessibilityViolation[] = [];
  for (const v of axeViolationsSchema.parse(raw)) {
    if (v.impact !== 'serious' && v.impact !== 'critical') continue;
    violations.push({ id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, targets: v.nodes.map((n) => n.target.map(String).join(' ')) });
  }
  return violations;
}

/** Where screenshots go: $PORTCULLIS_ARTIFACTS/ui, else test-artifacts/ui at the repository root (gitignored). */
export function artifactsDir(): string {
  const base = process.env.PORTCULLIS_ARTIFACTS ?? '';
  return join(base !== '' ? base : join(repoRoot, 'test-artifacts'), 'ui');
}

/** Writes a full-page PNG named `name` (made file-name safe) into {@link artifactsDir}; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = artifactsDir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
