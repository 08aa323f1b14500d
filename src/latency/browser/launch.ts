/**
 * Opens the device page in a local headless Chromium (playwright-core driving Debian's
 * /usr/bin/chromium), so this machine's browser can serve as a browser device without a phone:
 * used by the tests and by `createBrowserDevice({ launch: true })`.
 */
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

export interface LaunchedBrowser {
  browser: Browser;
  /** Opens one more device page (a second device) in a fresh context. */
  openPage(url: string): Promise<Page>;
  close(): Promise<void>;
}

/** Launches Chromium (a fresh temporary profile) without opening any page yet. */
export async function launchChromium(executablePath = DEFAULT_CHROMIUM): Promise<LaunchedBrowser> {
  const { chromium } = await importPlaywright();
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
  return {
    browser,
    async openPage(url: string): Promise<Page> {
      // a context per page: separate localStorage, so each page is its own device id
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(url, { waitUntil: 'load' });
      return page;
    },
    async close(): Promise<void> {
      await browser.close().catch(() => {});
    },
  };
}

/** Launches Chromium and opens the device page at `url` (the join URL with its token). */
export async function launchDevicePage(url: string, executablePath = DEFAULT_CHROMIUM): Promise<LaunchedBrowser & { page: Page }> {
  const b = await launchChromium(executablePath);
  try {
    const page = await b.openPage(url);
    return { ...b, page };
  } catch (e) {
    await b.close();
    throw e;
  }
}
