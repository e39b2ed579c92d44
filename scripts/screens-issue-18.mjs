// Screenshots of the pages issue #18 named, at desktop and phone widths
// (docs/screenshots/issue-18/), for before-and-after comparisons,
// against a running `concord demo` (argv: base, out-dir, prefix, email, password).
import { createRequire } from "node:module";
const require = createRequire(new URL("../web/package.json", import.meta.url));
const { chromium } = require("playwright-core");
const [,, base, out, prefix, email, password] = process.argv;
const widths = [
  { name: "desktop", viewport: { width: 1280, height: 900 } },
  { name: "phone", viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
];
const pages = [
  ["05-work-queue", "/work/to-answer", true, null],
  ["06-organisations", "/organisations", false, null],
  ["07-priorities", "/organisations/NMTH/priorities", false, null],
  ["08-dashboard-misspelt-theme", "/dashboard?theme=sepssis", false, null],
  ["09-dashboard-oldest-overdue", "/dashboard", false, "#oldest_overdue, h2:has-text('oldest overdue')"],
  ["10-search-empty", "/search?q=", false, null],
  ["10-search-sepsis", "/search?q=sepsis", false, null],
  ["11-downloads", "/search?q=sepsis", false, "a[href^='/search.csv']"],
  ["12-bad-date", "/search?q=falls&from=2024-99-01", false, null],
  ["12-related", "/recommendations/PFD-2022-0804", false, "section.similar h2, section.supports h2"],
];
const b = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
for (const w of widths) {
  const { name, ...size } = w;
  const ctx = await b.newContext(size);
  const p = await ctx.newPage();
  if (email) {
    await p.goto(base + "/sign-in");
    await p.fill("#email", email);
    await p.fill("#password", password);
    await p.click("main button[type=submit]");
    await p.waitForLoadState();
  }
  for (const [label, path, signedIn, scrollTo] of pages) {
    const page = signedIn ? p : await ctx.newPage();
    const res = await page.goto(base + path);
    if (scrollTo) {
      const l = page.locator(scrollTo).first();
      if (await l.count()) await l.scrollIntoViewIfNeeded();
    }
    await page.screenshot({ path: `${out}/${label}-${prefix}-${name}.png` });
    if (page !== p) await page.close();
    console.log(label, name, res?.status());
  }
  await ctx.close();
}
await b.close();
