// Drives the admin console in Debian's headless Chromium (playwright-core), one phase per run:
//
//   node console.mjs <phase>
//
// with CONSOLE_LOGIN (the host's sign-in link, which sets the session cookie and lands on the
// console), OUT_DIR (screenshots), SECRETS (a JSON array of strings no page or JSON answer may
// contain), CHROMIUM (the browser's path) and PHASE_ARGS (JSON). Prints one JSON line: {"ok": true,
// ...} or {"ok": false, "error": "..."}; exits 1 on failure.
//
// Phases:
//   connect     click Connect for Google Drive, allow access at the provider, see it healthy
//   sync-fails  click "Sync now" on the BambooHR employees stream three times, see the failed runs
//               listed first and the sync_failing notification
//   replay      find the dead-lettered delivery, click Replay, see it processed

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const phase = process.argv[2];
const login = process.env.CONSOLE_LOGIN;
const outDir = process.env.OUT_DIR || ".";
const secrets = JSON.parse(process.env.SECRETS || "[]").filter((s) => s.length > 0);
const args = JSON.parse(process.env.PHASE_ARGS || "{}");
const deadline = (seconds) => Date.now() + seconds * 1000;

mkdirSync(outDir, { recursive: true });

const checkedTexts = [];
function noSecrets(where, text) {
  checkedTexts.push(where);
  for (const secret of secrets) {
    if (text.includes(secret)) {
      throw new Error(`${where} contains a secret (${secret.slice(0, 4)}…)`);
    }
  }
}

async function checkPage(page, where) {
  noSecrets(where, await page.content());
}

// Every JSON answer of the console's API, fetched in the page with its session.
async function checkApi(page, tenant) {
  const paths = [
    "api/session",
    "api/catalog",
    `api/tenants/${tenant}/connections`,
    `api/tenants/${tenant}/runs`,
    `api/tenants/${tenant}/deliveries`,
    `api/tenants/${tenant}/automation-runs`,
    `api/tenants/${tenant}/notifications`,
  ];
  for (const path of paths) {
    const text = await page.evaluate(async (p) => (await fetch(p)).text(), path);
    noSecrets(path, text);
  }
}

async function reloadUntil(page, what, seconds, test) {
  const until = deadline(seconds);
  for (;;) {
    if (await test()) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await page.waitForTimeout(300);
    await page.reload({ waitUntil: "load" });
  }
}

async function attr(locator, name) {
  return (await locator.count()) > 0 ? locator.first().getAttribute(name) : null;
}

async function run(page) {
  const alerts = [];
  page.on("dialog", async (dialog) => {
    if (dialog.type() === "alert") alerts.push(dialog.message());
    await dialog.accept();
  });
  await page.goto(login, { waitUntil: "load" });
  const tenant = (await page.locator("#tenant").textContent()).trim();
  await checkPage(page, "the console");

  if (phase === "connect") {
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith("/admin")), page.locator('a.connect[data-provider="google_drive"]').click()]);
    await checkPage(page, "the provider's consent page");
    await Promise.all([page.waitForSelector("#connected"), page.locator("#allow").click()]);
    const row = page.locator('tr.connection[data-connection="google_drive"]');
    const standing = await attr(row, "data-standing");
    if (standing !== "healthy") throw new Error(`the new connection is ${standing}`);
    await checkPage(page, "the console after connecting");
    await page.screenshot({ path: join(outDir, "connected.png"), fullPage: true });
  } else if (phase === "sync-fails") {
    const sync = 'tr.connection[data-connection="bamboohr"] button[data-action$="/streams/employees/sync"]';
    for (let i = 1; i <= 3; i++) {
      await Promise.all([page.waitForEvent("load"), page.locator(sync).click()]);
      await reloadUntil(page, `failed run ${i}`, 30, async () => (await page.locator('tr.run[data-status="failed"]').count()) >= i);
    }
    await reloadUntil(page, "the sync_failing notification", 30, async () => (await page.locator('li.notification[data-kind="sync_failing"]').count()) > 0);
    const first = await attr(page.locator("tr.run"), "data-status");
    if (first !== "failed") throw new Error(`the first run listed is ${first}, not a failed one`);
    const standing = await attr(page.locator('tr.connection[data-connection="bamboohr"]'), "data-standing");
    if (standing !== "degraded") throw new Error(`the failing connection is ${standing}`);
    await checkPage(page, "the console with failed runs");
    await page.screenshot({ path: join(outDir, "sync-failed.png"), fullPage: true });
  } else if (phase === "replay") {
    const row = page.locator(`tr.delivery[data-delivery="${args.delivery}"]`);
    const status = await attr(row, "data-status");
    if (status !== "dead_lettered") throw new Error(`the delivery is ${status}, not dead-lettered`);
    await page.screenshot({ path: join(outDir, "dead-letter.png"), fullPage: true });
    await Promise.all([page.waitForEvent("load"), row.locator("button", { hasText: "Replay" }).click()]);
    await reloadUntil(page, "the replayed delivery processed", 30, async () => (await attr(page.locator(`tr.delivery[data-delivery="${args.delivery}"]`), "data-status")) === "processed");
    await checkPage(page, "the console after the replay");
    await page.screenshot({ path: join(outDir, "replayed.png"), fullPage: true });
  } else {
    throw new Error(`no phase ${phase}`);
  }
  await checkApi(page, tenant);
  if (alerts.length > 0) throw new Error(`the page alerted: ${alerts.join("; ")}`);
  return { checked: checkedTexts.length };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
try {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(30000);
  const result = await run(page);
  console.log(JSON.stringify({ ok: true, phase, ...result }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, phase, error: String(error && error.message ? error.message : error) }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
