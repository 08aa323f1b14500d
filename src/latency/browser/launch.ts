/**
 * Opens the device page in a local headless Chromium (playwright-core driving Debian's
 * /usr/bin/chromium), so this machine's browser can serve as a browser device without a phone:
 * used by the tests and by `createBrowserDevice({ launch: true })`.
 */
import os from 'node:os';
import { importPlaywright } from './optional-deps.js';
import type { Browser, Page } from 'playwright-core';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-quic',
  '--no-first-run',
  '--disable-sync',
];

/**
 * The client id of this machine's launched Chromium, the same at every launch: its device id
 * (browser:local-<host>) then names the same device from one run to the next, so a latency table
 * it profiled is its own later (a fresh profile would otherwise draw a new random id each time).
 */
export function localClientId(hostname = os.hostname()): string {
  return `local-${hostname.replace(/[^A-Za-z0-9_-]/g, '-')}`.slice(0, 64);
}

export interface LaunchedBrowser {
  browser: Browser;
  /** Opens one more device page (a second device) in a fresh context; with `clientId`, the page joins under that id. */
  openPage(url: string, clientId?: string): Promise<Page>;
  close(): Promise<void>;
}

/** Launches Chromium (a fresh temporary profile) without opening any page yet. */
export async function launchChromium(executablePath = DEFAULT_CHROMIUM): Promise<LaunchedBrowser> {
  const { chromium } = await importPlaywright();
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
  return {
    browser,
    async openPage(url: string, clientId?: string): Promise<Page> {
      // a context per page: separate localStorage, so each page is its own device id
      const context = await browser.newContext();
      if (clientId !== undefined) await context.addInitScript({ content: `localStorage.setItem('mnas-device-id', ${JSON.stringify(clientId)});` });
      const page = await context.newPage();
      await page.goto(url, { waitUntil: 'load' });
      return page;
    },
    async close(): Promise<void> {
      await browser.close().catch(() => {});
    },
  };
}

/** Launches Chromium and opens the device page at `url` (the join URL with its token) as this machine's device (localClientId). */
export async function launchDevicePage(url: string, executablePath = DEFAULT_CHROMIUM): Promise<LaunchedBrowser & { page: Page }> {
  const b = await launchChromium(executablePath);
  try {
    const page = await b.openPage(url, localClientId());
    return { ...b, page };
  } catch (e) {
    await b.close();
    throw e;
  }
}
