// Browser journeys through the public pages, in Debian's Chromium driven by
// playwright-core, with axe-core checking WCAG 2.2 AA on every page visited.
// Run by scripts/test.sh after the cargo tests: `node --test e2e/`.
//
// The server is `concord demo` on a free port (CONCORD_BIN, default
// target/debug/concord). The four people's journeys (a journalist searching
// and downloading, a safety lead drafting and publishing, a trust answering
// and reading a priority list, an oversight official on the dashboard) run
// at desktop and phone widths. Screenshots go to e2e/screenshots/ (not kept
// in git); with CONCORD_DOC_SHOTS=1 each journey step is also saved, as the
// screen shows it, to docs/screenshots/ (kept, for the README).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { readFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
// The tools are pinned in web/package-lock.json beside the page assets.
const require = createRequire(path.join(root, "web", "package.json"));
const { chromium } = require("playwright-core");
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const shots = path.join(here, "screenshots");
mkdirSync(shots, { recursive: true });
const docShots = process.env.CONCORD_DOC_SHOTS ? path.join(root, "docs", "screenshots") : null;
if (docShots) mkdirSync(docShots, { recursive: true });
// The widths every journey is walked at.
const WIDTHS = [
  { name: "desktop", viewport: { width: 1280, height: 900 } },
  { name: "phone", viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
];
const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

let server;
let base;
let browser;
const checked = new Set();
// The demo's people, as `concord demo` prints them: email -> password.
const accounts = new Map();

before(async () => {
  const bin = process.env.CONCORD_BIN || path.join(root, "target", "debug", "concord");
  server = spawn(bin, ["demo", "--addr", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, CONCORD_PROGRESS: "plain" },
  });
  base = await new Promise((resolve, reject) => {
    let out = "";
    server.stdout.on("data", (chunk) => {
      out += chunk;
      for (const a of out.matchAll(/^demo account: (\S+) (\S+) /gm)) accounts.set(a[1], a[2]);
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    server.on("exit", (code) => reject(new Error(`concord demo exited (${code}) before listening`)));
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

/// A new page that fails the test on any console error (a CSP refusal of
/// an inline script or style shows up there) or uncaught exception.
async function open(options = {}, width = WIDTHS[0]) {
  const { name, ...size } = width;
  const context = await browser.newContext({ ...size, ...options });
  const page = await context.newPage();
  page.width = name;
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.problems = problems;
  return page;
}

/// Runs axe-core on the page as it is now; any violation fails the test
/// with what and where.
async function axe(page, label) {
  const results = await page.evaluate(
    async ([source, tags]) => {
      if (!window.axe) {
        // Evaluated from the test, not injected as a tag: the CSP stays on.
        (0, eval)(source);
      }
      const r = await window.axe.run(document, { runOnly: { type: "tag", values: tags } });
      return r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
      }));
    },
    [axeSource, AXE_TAGS],
  );
  checked.add(label);
  checked.add(`${label} @${page.width}`);
  assert.deepEqual(results, [], `axe-core on ${label} (${page.url()}):\n${JSON.stringify(results, null, 2)}`);
  assert.deepEqual(page.problems, [], `browser errors on ${label}`);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, `${name}-${page.width}.png`), fullPage: true });
  if (docShots) {
    await page.screenshot({ path: path.join(docShots, `${page.width}-${name}.png`) });
  }
}

/// Follows a link that may sit in a menu folded away on a phone: clicks it
/// where it shows, else goes to its address as the menu would.
async function follow(page, selector) {
  const link = page.locator(selector).first();
  if (await link.isVisible()) {
    await link.click();
  } else {
    await page.goto(new URL(await link.getAttribute("href"), base).href);
  }
}

for (const width of WIDTHS) test(`a journalist: home → search → narrow by a facet → download → record → organisation → theme (${width.name})`, { timeout: 90_000 }, async () => {
  const page = await open({}, width);
  await page.goto(base + "/");
  assert.match(await page.title(), /Concord/);
  await axe(page, "home");
  await shot(page, "home");

  // The header's search box.
  await page.fill("#search-field", "sepsis");
  await page.press("#search-field", "Enter");
  await page.waitForURL(/\/search\?q=sepsis/);
  // On a phone the results come first, the filters folded away above them.
  const narrow = page.locator("details.concord-narrow");
  assert.equal(await narrow.evaluate((d) => d.open), width.name !== "phone", "filters folded only on a phone");
  const found = await page.textContent("#search-results [role=status]");
  assert.match(found, /\d+ recommendations found/);
  assert.ok((await page.locator("mark").count()) > 0, "highlighted words");
  await axe(page, "search results");
  await shot(page, "search");

  // Narrow by the first issuer: htmx swaps the results and the address.
  const before = Number(found.match(/(\d+)/)[1]);
  if (!(await narrow.evaluate((d) => d.open))) await page.click("details.concord-narrow summary");
  const facet = page.locator(".concord-facet", { hasText: "Issued by" }).locator("a").first();
  // Organisations are named, their code in brackets: "Name (CODE)".
  const label = (await facet.textContent()).trim();
  const issuer = (label.match(/\(([A-Z0-9]+)\)/) ?? [null, label.split(/\s/)[0]])[1];
  await facet.click();
  await page.waitForURL(new RegExp(`issuer=${issuer}`));
  // The filters say how many are chosen, folded or not.
  await page.locator("details.concord-narrow summary", { hasText: "1 chosen" }).waitFor();
  const narrowed = Number((await page.textContent("#search-results [role=status]")).match(/(\d+)/)[1]);
  assert.ok(narrowed > 0 && narrowed < before, `${narrowed} of ${before}`);
  await axe(page, "search narrowed");

  // Download the narrowed result set as CSV.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.click("a[href^='/search.csv']"),
  ]);
  const csv = readFileSync(await download.path(), "utf8");
  const ids = csv.match(/[A-Z][A-Z0-9]+-\d{4}-\d{4}/g) || [];
  assert.equal(new Set(ids.filter((id) => id.startsWith(issuer))).size, narrowed, "one row per result");

  // The first result's page.
  await page.locator(".concord-hit h3 a").first().click();
  await page.waitForURL(/\/recommendations\//);
  await page.locator("h2", { hasText: "Addressed to" }).waitFor();
  await axe(page, "recommendation");
  await shot(page, "recommendation");
  const recordUrl = page.url();

  await page.locator(`main a[href='/organisations/${issuer}']`).first().click();
  await page.waitForURL(/\/organisations\//);
  await page.locator("h2", { hasText: "What it issued" }).waitFor();
  await axe(page, "organisation");
  await shot(page, "organisation");

  await page.goto(recordUrl);
  await page.locator("a[href^='/themes/']").first().click();
  await page.waitForURL(/\/themes\//);
  assert.match(await page.textContent("main"), /carr(y|ies) this theme/);
  await axe(page, "theme");
  await page.context().close();
});

test("dashboard and ongoing work", { timeout: 90_000 }, async () => {
  const page = await open();
  await page.goto(base + "/dashboard");
  await page.locator("h1").waitFor();
  await axe(page, "dashboard");
  await shot(page, "dashboard");
  await page.click("a.nhsuk-header__navigation-link[href='/workstreams']");
  await page.waitForURL(/\/workstreams/);
  await axe(page, "workstreams");
  const first = page.locator("main a[href^='/workstreams/']").first();
  if ((await first.count()) > 0) {
    await first.click();
    await page.waitForURL(/\/workstreams\/.+/);
    await axe(page, "workstream");
  }
  await page.context().close();
});

test("keyboard only: skip link, search, results", { timeout: 90_000 }, async () => {
  const page = await open();
  await page.goto(base + "/");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), "Skip to main content");
  await page.keyboard.press("Enter");
  assert.match(page.url(), /#maincontent$/);
  // Tab to the home page's own search box and search from the keyboard.
  await page.focus("#home-q");
  await page.keyboard.type("handover");
  await page.keyboard.press("Enter");
  await page.waitForURL(/q=handover/);
  await page.locator("#search-results").waitFor();
  await page.context().close();
});

test("without JavaScript: search and narrowing work as plain links", { timeout: 90_000 }, async () => {
  const page = await open({ javaScriptEnabled: false });
  await page.goto(base + "/search?q=falls");
  const facet = page.locator(".concord-facet", { hasText: "Theme" }).locator("a").first();
  await facet.click();
  await page.waitForURL(/theme=/);
  assert.match(await page.textContent("main"), /Narrowed by/);
  // axe-core needs JavaScript: the same address is checked with it on.
  const url = page.url();
  await page.context().close();
  const checkedPage = await open();
  await checkedPage.goto(url);
  await axe(checkedPage, "search narrowed by a plain link");
  await checkedPage.context().close();
});

test("a phone-sized screen, bad input and a missing page", { timeout: 90_000 }, async () => {
  const page = await open({}, WIDTHS[1]);
  await page.goto(base + "/search?q=ambulance+handover");
  await axe(page, "search on a phone");
  await shot(page, "search-handover");
  await page.goto(base + "/search?q=" + "a".repeat(1500));
  assert.match(await page.textContent(".nhsuk-error-summary"), /There is a problem/);
  page.problems.length = 0; // the 400 itself is logged by the browser
  await axe(page, "search error");
  await page.goto(base + "/no/such/page");
  page.problems.length = 0; // the 404 itself is logged by the browser
  await axe(page, "page not found");
  await page.context().close();
});

const LEAD = "safety.lead@hssib.example.org";
const RESPONDENT = "governance@nhse.example.org";
const OVERSIGHT = "oversight@dhsc.example.org";

/// Signs in through the form, as a person would, in a new browser context.
async function signIn(email, width = WIDTHS[0]) {
  const page = await open({}, width);
  assert.ok(accounts.has(email), `concord demo printed no account for ${email}`);
  await page.goto(base + "/sign-in");
  await page.fill("#email", email);
  await page.fill("#password", accounts.get(email));
  await page.click("main button[type=submit]");
  // Straight to "Your work" when there is any, else the account page.
  await page.waitForURL(/\/(work|account)$/);
  // Every page now says who is signed in.
  assert.match(await page.textContent(".nhsuk-header__account"), /Sign out/);
  return page;
}

// What each width's safety lead publishes, for that width's trust to answer.
const published = new Map();
const DRAFTS = {
  desktop: {
    title: "Sepsis screening at triage in every emergency department",
    text:
      "NHS England should require every emergency department to screen adults for sepsis " +
      "within one hour of arrival by April 2027, and report compliance each quarter.",
  },
  phone: {
    title: "Sepsis screening at triage in every urgent treatment centre",
    text:
      "NHS England should require every urgent treatment centre to screen adults for sepsis " +
      "within one hour of arrival by April 2027, and report compliance each quarter.",
  },
};

for (const width of WIDTHS) test(`a safety lead drafts with live feedback, saves, and publishes through the gate (${width.name})`, { timeout: 120_000 }, async () => {
  const { title: DRAFT_TITLE, text: DRAFT_TEXT } = DRAFTS[width.name];
  const page = await signIn(LEAD, width);
  assert.match(page.url(), /\/work$/, "a safety lead lands on their work");
  await shot(page, "lead-work");
  await page.goto(base + "/account");
  await axe(page, "account");
  await follow(page, "a.nhsuk-header__navigation-link[href='/work']");
  await page.waitForURL(/\/work$/);
  await axe(page, "your work");
  await page.click("text=Draft a recommendation");
  await page.waitForURL(/\/recommendations\/new$/);
  await axe(page, "draft form");

  // As the author types, the panel fills without a page load.
  await page.evaluate(() => { window.stillTheSamePage = true; });
  await page.fill("#title", DRAFT_TITLE);
  await page.fill("#text", DRAFT_TEXT);
  await page.fill("#addressees", "NHSE");
  await page.locator("#feedback .concord-checks").waitFor({ timeout: 30_000 });
  assert.equal(await page.evaluate(() => window.stillTheSamePage), true, "no page load");
  const panel = await page.textContent("#feedback");
  assert.match(panel, /Score \d+ out of 100/);
  assert.match(panel, /Time bound/);
  assert.ok((await page.locator("#feedback .concord-similar a").count()) > 0, "similar recommendations listed");
  assert.match(panel, /duplicate/);
  assert.match(await page.textContent("#feedback-status"), /criteria met/);
  await axe(page, "draft feedback");
  await shot(page, "draft");

  // Saved: back on the form as an edit, then published.
  await page.click("button[value=save]");
  await page.waitForURL(/\/recommendations\/HSSIB-\d{4}-\d{4}\/edit\?saved=1$/);
  assert.match(await page.textContent(".nhsuk-inset-text"), /saved/);
  await axe(page, "draft edit");
  // Publish: first a check of what becomes public, and when answers fall due.
  await page.click("button[value=publish]");
  await page.waitForURL(/\/recommendations\/HSSIB-\d{4}-\d{4}\/publish$/);
  assert.match(await page.textContent("h1"), /Check the recommendation before you publish it/);
  assert.match(await page.textContent("main"), /Answers due by/);
  await axe(page, "check before publishing");
  await shot(page, "check-before-publishing");
  await page.click("main form[action$='/publish'] button[type=submit]");
  await page.waitForURL(/\/recommendations\/HSSIB-\d{4}-\d{4}\?published=1$/);
  assert.match(await page.textContent(".nhsuk-notification-banner"), /published/);
  assert.match(await page.textContent("h1"), /Sepsis screening at triage/);
  assert.doesNotMatch(await page.textContent(".facts"), /not given/);
  published.set(width.name, page.url().split("/").pop().split("?")[0]);
  await axe(page, "recommendation, signed in");
  await shot(page, "published");
  await page.context().close();
});

for (const width of WIDTHS) test(`a trust answers and records progress; the safety lead assesses (${width.name})`, { timeout: 120_000 }, async () => {
  // The recommendation the safety lead's journey published at this width.
  const id = published.get(width.name);
  assert.match(id ?? "", /^HSSIB-/, "the safety lead's journey published one");

  const page = await signIn(RESPONDENT, width);
  await page.goto(base + "/work");
  await page.locator("h2", { hasText: "Waiting for your answer" }).waitFor();
  await page.goto(base + "/work/to-answer");
  // Late answers say so, and come first.
  assert.match(await page.textContent("main"), /Overdue/);
  await axe(page, "work queue");
  await shot(page, "work-queue");
  await page.goto(base + `/recommendations/${id}`);
  await page.click("text=Answer for NHS England");
  await page.waitForURL(/\/respond$/);
  await axe(page, "answer form");
  // Not accepted needs reasons: the form says so, by the field.
  await page.check("input[name=acceptance][value=not_accepted]");
  await page.fill("#text", "We cannot fund this in 2027.");
  await page.click("main button[type=submit]");
  await page.locator(".nhsuk-error-summary").waitFor();
  assert.match(await page.textContent(".nhsuk-error-summary"), /Reasons/);
  // The design system moves focus to the summary, so that it is read first.
  await page.waitForFunction(() => document.activeElement?.classList.contains("nhsuk-error-summary"));
  page.problems.length = 0; // the 422 itself is logged by the browser
  await axe(page, "answer form with an error");
  await page.check("input[name=acceptance][value=accepted]");
  await page.fill("#text", "We will screen every adult within an hour from April 2027.");
  await page.fill("#reasons", "");
  await page.click("main button[type=submit]");
  // The answer is shown to be checked before it is sent, in public.
  await page.locator("h1", { hasText: "Check your answer before you send it" }).waitFor();
  assert.match(await page.textContent("main"), /We will screen every adult within an hour/);
  await axe(page, "check your answer");
  await shot(page, "check-your-answer");
  await page.click("button[value=yes]");
  await page.waitForURL(new RegExp(`/recommendations/${id}\\?answered=1$`));
  assert.match(await page.textContent(".nhsuk-notification-banner"), /Your answer was sent/);
  assert.match(await page.textContent("main"), /We will screen every adult within an hour/);
  await page.click("text=Record NHS England's progress");
  await page.check("input[name=implementation][value=in_progress]");
  await page.fill("#note", "Piloted in three trusts.");
  await page.click("main button[type=submit]");
  await page.waitForURL(new RegExp(`/recommendations/${id}$`));
  await page.context().close();

  const lead = await signIn(LEAD, width);
  await lead.goto(base + "/work/to-assess");
  await lead.click(`a[href='/recommendations/${id}/addressees/1/assess']`);
  await axe(lead, "assess form");
  // The answer being judged is quoted, and no verdict is chosen for them.
  assert.match(await lead.textContent("#answer"), /We will screen every adult within an hour/);
  assert.equal(await lead.locator("input[name=verdict]:checked").count(), 0);
  await shot(lead, "assess-form");
  await lead.check("input[name=verdict][value=satisfactory_intent]");
  await lead.fill("#comment", "A credible plan; not done yet.");
  await lead.click("main button[type=submit]");
  await lead.waitForURL(new RegExp(`/recommendations/${id}$`));
  assert.match(await lead.textContent("main"), /A credible plan; not done yet/);
  await shot(lead, "assessed");
  await lead.click("text=history of changes");
  await lead.waitForURL(/\/history$/);
  assert.match(await lead.textContent("main"), /assess/);
  await axe(lead, "history");
  await lead.context().close();
});

for (const width of WIDTHS) test(`an oversight official: their work, the dashboard narrowed and cleared, the oldest overdue answers (${width.name})`, { timeout: 90_000 }, async () => {
  const page = await signIn(OVERSIGHT, width);
  await follow(page, "a.nhsuk-header__navigation-link[href='/work']");
  await page.locator("h2", { hasText: "Oversight" }).waitFor();
  await page.click("main a[href='/dashboard']");
  await page.waitForURL(/\/dashboard$/);
  await axe(page, "dashboard, signed in");
  await shot(page, "dashboard");
  // The contents list leads to each section.
  const contents = page.locator("nav.nhsuk-contents-list a");
  assert.ok((await contents.count()) >= 5, "a contents list");
  // Narrowed to one issuer by choosing it, then cleared.
  const issuer = page.locator("select[name=issuer]");
  const choice = await issuer.locator("option").nth(1).getAttribute("value");
  await issuer.selectOption(choice);
  await page.locator(".concord-filters button[type=submit]").click();
  await page.waitForURL(new RegExp(`issuer=${choice}`));
  await axe(page, "dashboard narrowed");
  await shot(page, "dashboard-narrowed");
  await page.locator("main a", { hasText: /clear/i }).first().click();
  await page.waitForURL(/\/dashboard$/);
  await page.context().close();
});

for (const width of WIDTHS) test(`a care home finds itself and reads its priority list (${width.name})`, { timeout: 90_000 }, async () => {
  const page = await open({}, width);
  // Finding it: the A to Z of organisations, searched by part of its name.
  await page.goto(base + "/");
  await page.click("main a[href='/organisations']");
  await page.waitForURL(/\/organisations$/);
  await axe(page, "organisations");
  await page.fill("#org-q", "amberley");
  await page.click("main button[type=submit]");
  await page.waitForURL(/\/organisations\?q=amberley$/);
  await page.click("main a[href='/organisations/AMBNH']");
  await page.waitForURL(/\/organisations\/AMBNH$/);
  await page.click("a[href='/organisations/AMBNH/priorities']");
  await page.waitForURL(/\/priorities$/);
  assert.ok((await page.locator(".concord-priorities > li").count()) > 0, "items listed");
  assert.match(await page.textContent("main"), /Download as an action plan/);
  await axe(page, "priorities");
  await shot(page, "priorities");
  // How the list is ordered, in words.
  await page.click("#how-ordered summary");
  assert.match(await page.textContent("#how-ordered"), /overdue/);
  await page.context().close();
});

test("an administrator gives a member who forgot their password a one-time link", { timeout: 120_000 }, async () => {
  const page = await signIn(LEAD);
  await page.goto(base + "/admin");
  await axe(page, "admin");
  // A new member, with a first password the administrator chose.
  await page.fill("#new-email", "ravi.patel@hssib.example.org");
  await page.fill("#new-name", "Ravi Patel");
  await page.fill("#new-password", "a first password for ravi");
  await page.check("#new-role-author");
  await page.click("text=Create account");
  await page.waitForURL(/\/admin$/);
  // Ravi forgets it: the administrator makes a link, shown once.
  await page.click("button:has-text('Make a password reset link for Ravi Patel')");
  const link = (await page.textContent("#reset-link code")).trim();
  assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/reset-password\/concord_[0-9a-f]{64}$/);
  await axe(page, "reset link shown");
  await shot(page, "admin-reset-link");
  await page.context().close();

  // Ravi opens it on a phone.
  const phone = await open({}, WIDTHS[1]);
  await phone.goto(link);
  assert.match(await phone.textContent("main"), /ravi\.patel@hssib\.example\.org/);
  await axe(phone, "set a new password");
  await phone.fill("#new", "too short");
  await phone.click("text=Set password");
  assert.match(await phone.textContent(".nhsuk-error-summary"), /Your new password is too short/);
  phone.problems.length = 0; // the 422 itself is logged by the browser
  await axe(phone, "set a new password, error");
  await shot(phone, "reset-password-error");
  await phone.fill("#new", "lantern orchard copper 7");
  await phone.click("text=Set password");
  await phone.locator("h1", { hasText: "Your password has been set" }).waitFor();
  await axe(phone, "password set");
  // The link is spent; the new password works.
  const again = await phone.goto(link);
  assert.equal(again.status(), 404);
  phone.problems.length = 0; // the 404 itself is logged by the browser
  await phone.goto(base + "/sign-in");
  await phone.fill("#email", "ravi.patel@hssib.example.org");
  await phone.fill("#password", "lantern orchard copper 7");
  await phone.click("main button[type=submit]");
  await phone.waitForURL(/\/work$/);
  await phone.context().close();
});

test("every kind of page was checked by axe-core, the journeys' at both widths", () => {
  const journeys = [
    "home",
    "search results",
    "search narrowed",
    "recommendation",
    "organisation",
    "theme",
    "account",
    "your work",
    "draft form",
    "draft feedback",
    "draft edit",
    "check before publishing",
    "recommendation, signed in",
    "work queue",
    "answer form",
    "answer form with an error",
    "check your answer",
    "assess form",
    "history",
    "dashboard, signed in",
    "dashboard narrowed",
    "organisations",
    "priorities",
  ];
  for (const label of journeys) {
    for (const width of WIDTHS) {
      assert.ok(checked.has(`${label} @${width.name}`), `no axe check of ${label} at ${width.name} width`);
    }
  }
  for (const label of [
    "dashboard",
    "workstreams",
    "search error",
    "page not found",
    "admin",
    "reset link shown",
    "set a new password",
    "set a new password, error",
    "password set",
  ]) {
    assert.ok(checked.has(label), `no axe check of ${label}`);
  }
});
