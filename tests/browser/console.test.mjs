// Browser test of the xacct console's single-page app, against a running console (the Rust
// `xacct console`) whose API reaches the local stack.
//
//   XACCT_CONSOLE_URL=http://127.0.0.1:8377 node --test console.test.mjs
//   tests/browser/run.sh          # starts `xacct console` when XACCT_CONSOLE_URL is unset
//
// Drives Debian's chromium (/usr/bin/chromium, or XACCT_CHROMIUM) through playwright-core;
// no browser is downloaded. Screenshots of every step go to tests/browser/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const SHOTS = join(HERE, 'screenshots');
const BASE = (process.env.XACCT_CONSOLE_URL || '').replace(/\/+$/, '');
// `xacct console` prints its URL with a per-run token; opening it sets the session cookie.
const TOKEN = process.env.XACCT_CONSOLE_TOKEN || '';
const CHROMIUM = process.env.XACCT_CHROMIUM || '/usr/bin/chromium';
const BUCKET = 'xacct-demo-reports';
const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;
const OWNER = '111111111111';
const REQUESTOR = '222222222222';
// Unique per run, so reruns against the same moto create new roles instead of colliding.
const RUN = `console-${Date.now()}`;
// Generous for a 2-core machine running moto, the functions and a browser at once. The app
// itself gives up after 2 min.
const SLOW = 150_000;

let context;
let userDataDir;

before(async () => {
  assert.ok(BASE, 'XACCT_CONSOLE_URL must name the console to test (tests/browser/run.sh sets it)');
  mkdirSync(SHOTS, { recursive: true });
  userDataDir = mkdtempSync(join(tmpdir(), 'xacct-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1280, height: 800 },
    timeout: 60_000,
  });
  context.setDefaultTimeout(20_000);
});

after(async () => {
  if (context) await context.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

/** A fresh page on the console that fails the test on any page error or failed request. */
async function openConsole() {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of (4|5)\d\d/.test(m.text())) problems.push(`console error: ${m.text()}`); });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.origin !== new URL(BASE).origin && u.protocol !== 'data:') problems.push(`request outside the console: ${r.url()}`);
  });
  await page.goto(TOKEN ? `${BASE}/?token=${TOKEN}` : `${BASE}/`);
  await page.waitForSelector('html[data-ready="true"]');
  return { page, problems };
}

const shot = (page, name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
const byId = (page, id) => page.getByTestId(id);

/** Step 1 by the shortest way: paste the bucket's ARN. */
async function pasteArn(page, arn) {
  await byId(page, 'arn-input').fill(arn);
  await byId(page, 'arn-use').click();
  await byId(page, 'step-actions').waitFor({ state: 'visible', timeout: SLOW });
}

/**
 * With ERROR findings in the requestor preview, the only one tolerated is the functions' known
 * false positive: their validator does not match `sts:AssumeRole` to an IAM role ARN
 * (ACTION_RESOURCE_MISMATCH). The app then asks for an explicit acknowledgment before creating.
 */
async function acknowledgeRequestorErrors(page) {
  const reqErrors = page.locator('[data-testid="requestor-findings"] [data-testid="finding"][data-severity="ERROR"]');
  if (await reqErrors.count() === 0) return;
  for (const text of await reqErrors.allTextContents()) {
    assert.ok(text.includes('ACTION_RESOURCE_MISMATCH') && text.includes('sts:AssumeRole'), `unexpected ERROR finding: ${text}`);
  }
  assert.equal(await byId(page, 'requestor-create').isDisabled(), true, 'ERROR findings block create until acknowledged');
  await byId(page, 'requestor-ack').check();
  assert.equal(await byId(page, 'requestor-create').isEnabled(), true);
}

/** Steps 1 to 3 by the shortest way: the bucket, ListBucket and GetObject, an owner role named `roleName`. */
async function createOwnerRole(page, roleName, { mfa = false } = {}) {
  await pasteArn(page, BUCKET_ARN);
  await page.locator('[data-action="s3:ListBucket"] [data-testid="action-checkbox"]').check();
  await page.locator('[data-action="s3:GetObject"] [data-testid="action-checkbox"]').check();
  await byId(page, 'actions-next').click();
  await byId(page, 'step-owner').waitFor({ state: 'visible' });
  await byId(page, 'requestor-account').fill(REQUESTOR);
  await byId(page, 'owner-role-name').fill(roleName);
  if (mfa) await byId(page, 'require-mfa').check();
  await byId(page, 'owner-preview').click();
  await byId(page, 'owner-preview-panel').waitFor({ state: 'visible', timeout: SLOW });
  assert.equal(await page.locator('[data-testid="findings"] [data-testid="finding"][data-severity="ERROR"]').count(), 0, 'no ERROR finding');
  await byId(page, 'owner-create').click();
  await byId(page, 'owner-result-title').filter({ hasText: 'Role created' }).waitFor({ timeout: SLOW });
  await byId(page, 'owner-next').click();
  await byId(page, 'step-requestor').waitFor({ state: 'visible' });
  return `arn:aws:iam::${OWNER}:role/xacct/${roleName}`;
}

/** Waits for the grants table to settle, then loads pages until the role's row shows (or no page is left). */
async function findGrantRow(page, roleName) {
  const row = page.locator(`[data-testid="grant-row"][data-role-name="${roleName}"]`);
  for (let i = 0; i < 50; i++) {
    await byId(page, 'grants-loading').waitFor({ state: 'hidden', timeout: SLOW });
    if (await row.count() > 0) return row;
    const more = byId(page, 'grants-load-more');
    if (!(await more.isVisible())) break;
    await more.click();
  }
  assert.fail(`no grant row for ${roleName}`);
}

test('the whole flow: resource, actions, owner role, requestor role, hand-off', { timeout: 900_000 }, async () => {
  const { page, problems } = await openConsole();

  // The header shows the setup (the accounts when the server knows them: they may be null).
  await byId(page, 'setup-owner').waitFor();
  const setup = await page.evaluate(() => fetch('/api/setup').then((r) => r.json()));
  assert.equal(typeof setup.setup, 'string');
  assert.deepEqual(Object.keys(setup.sides).sort(), ['owner', 'requestor']);
  if (setup.owner_account) assert.match(await byId(page, 'setup-owner').textContent(), new RegExp(setup.owner_account));
  assert.equal(await byId(page, 'step-tab-1').getAttribute('aria-current'), 'step');
  assert.equal(await byId(page, 'step-tab-3').isDisabled(), true, 'later steps are locked at first');

  // --- step 1: the resource table, searched
  const rows = page.getByTestId('resource-row');
  await rows.first().waitFor({ timeout: SLOW });
  assert.ok(await rows.count() > 1, 'the seeded owner account lists several resources');
  assert.ok(await page.getByTestId('tag-chip').count() > 0, 'tags are shown as chips');
  await shot(page, '01-resources');
  await byId(page, 'resource-search').click();
  await byId(page, 'resource-search').fill(BUCKET);
  const row = page.locator(`[data-testid="resource-row"][data-arn="${BUCKET_ARN}"]`);
  await row.waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="resource-row"]').length === 1);
  // By keyboard: Tab from the search box to the row's radio button, Space picks it, Enter goes on.
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement?.dataset.testid === 'resource-radio')) break;
  }
  assert.equal(await page.evaluate(() => document.activeElement?.value), BUCKET_ARN, 'the row is reachable with Tab');
  await page.keyboard.press('Space');
  assert.equal(await row.getAttribute('aria-selected'), 'true');
  assert.equal(await byId(page, 'selected-arn').textContent(), BUCKET_ARN);
  await shot(page, '02-resource-searched');
  await page.keyboard.press('Enter');

  // --- step 2: actions, grouped by access level
  await byId(page, 'step-actions').waitFor({ state: 'visible', timeout: SLOW });
  assert.equal(await byId(page, 'actions-arn').textContent(), BUCKET_ARN);
  const levels = await page.getByTestId('action-group').evaluateAll((gs) => gs.map((g) => g.dataset.level));
  assert.deepEqual(levels, ['List', 'Read', 'Write', 'Permissions management', 'Tagging']);
  // Permissions management is locked until explicitly allowed.
  const pmBox = page.locator('[data-level="Permissions management"] [data-testid="action-checkbox"]').first();
  assert.equal(await pmBox.isDisabled(), true, 'permissions management actions are locked by default');
  await page.locator('[data-action="s3:ListBucket"] [data-testid="action-checkbox"]').check();
  // The exact ARN each action is granted on is shown.
  await byId(page, 'actions-filter').fill('GetObject');
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="action-row"]')]
    .every((r) => /getobject/i.test(r.textContent)));
  const getObject = page.locator('[data-action="s3:GetObject"]');
  assert.match(await getObject.getByTestId('action-resource').textContent(), /arn:aws:s3:::xacct-demo-reports\/\*/);
  await getObject.getByTestId('action-checkbox').check();
  await shot(page, '03-actions-filtered');
  await byId(page, 'actions-filter').fill('');
  await page.locator('[data-action="s3:ListAllMyBuckets"]').waitFor();
  await page.locator('[data-level="List"] [data-testid="group-count"]').filter({ hasText: '1 of' }).waitFor();
  await page.locator('[data-level="Read"] [data-testid="group-count"]').filter({ hasText: '1 of' }).waitFor();
  assert.match(await byId(page, 'actions-selected-count').textContent(), /^2 actions selected/);
  await shot(page, '04-actions-selected');
  await byId(page, 'actions-next').click();

  // --- step 3: requestor & options, preview, create
  await byId(page, 'step-owner').waitFor({ state: 'visible' });
  assert.equal(await byId(page, 'owner-create').isDisabled(), true, 'no create before a preview');
  await byId(page, 'requestor-account').fill(REQUESTOR);
  await byId(page, 'owner-role-name').fill(RUN);
  await byId(page, 'owner-preview').click();
  const policy = byId(page, 'permissions-policy');
  await policy.filter({ hasText: `${BUCKET_ARN}/*` }).waitFor({ timeout: SLOW });
  const policyText = await policy.textContent();
  assert.ok(policyText.includes(`"${BUCKET_ARN}/*"`), 'GetObject is granted on the objects');
  assert.ok(policyText.includes('"s3:GetObject"') && policyText.includes('"s3:ListBucket"'));
  JSON.parse(policyText); // shown as real, pretty-printed JSON
  const trustText = await byId(page, 'trust-policy').textContent();
  assert.ok(trustText.includes(`arn:aws:iam::${REQUESTOR}:root`), 'the trust names the requestor account');
  assert.ok(trustText.includes('sts:ExternalId'), 'the trust requires an External ID');
  assert.equal(await page.locator('[data-testid="finding"][data-severity="ERROR"]').count(), 0, 'no ERROR finding');
  assert.match(await byId(page, 'changes').textContent(), /create role/);
  // The preview says what the grant does to access, not only which IAM calls it makes.
  assert.equal(await byId(page, 'access-diff').getAttribute('data-change'), 'new');
  assert.match(await byId(page, 'access-diff').textContent(), new RegExp(`\\+ s3:GetObject on ${BUCKET_ARN}/\\*`));
  assert.match(await byId(page, 'access-diff').textContent(), new RegExp(`may assume: arn:aws:iam::${REQUESTOR}:`));
  const previewedExternalId = (await byId(page, 'preview-external-id').textContent()).trim();
  assert.equal(await byId(page, 'owner-create').isEnabled(), true, 'create is enabled after a preview');
  await shot(page, '05-owner-preview');
  await page.evaluate(() => document.getElementById('owner-preview-panel').scrollIntoView());
  await shot(page, '06-owner-preview-policies');

  // Changing an input after the preview requires a new one.
  await byId(page, 'max-session').selectOption('7200');
  assert.equal(await byId(page, 'owner-create').isDisabled(), true, 'create is disabled once the inputs change');
  await byId(page, 'max-session').selectOption('3600');
  assert.equal(await byId(page, 'owner-create').isEnabled(), true, 'same inputs as the preview again');

  await byId(page, 'owner-create').click();
  const ownerResult = byId(page, 'owner-result');
  await ownerResult.waitFor({ state: 'visible', timeout: SLOW });
  assert.equal(await byId(page, 'owner-result-title').textContent(), 'Role created');
  assert.equal(await ownerResult.getAttribute('data-changed'), 'true');
  // A grant lasts 7 days unless the user says otherwise: the default of the expiry field.
  assert.equal(await byId(page, 'expires-in').inputValue(), '7d');
  const expires = (await byId(page, 'owner-expires').textContent()).match(/^Expires (\S+):/);
  assert.ok(expires, await byId(page, 'owner-expires').textContent());
  const days = (Date.parse(expires[1]) - Date.now()) / 86_400_000;
  assert.ok(days > 6.9 && days <= 7, `expires in 7 days, not ${days}`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, '07-owner-created');
  await byId(page, 'owner-next').click();

  // --- step 4: requestor side
  await byId(page, 'step-requestor').waitFor({ state: 'visible' });
  assert.equal(await byId(page, 'requestor-unavailable').isVisible(), false);
  await byId(page, 'service-principal').selectOption('lambda.amazonaws.com');
  await byId(page, 'requestor-role-name').fill(`${RUN}-lambda`);
  await byId(page, 'requestor-preview').click();
  await byId(page, 'requestor-policy').filter({ hasText: 'sts:AssumeRole' }).waitFor({ timeout: SLOW });
  assert.match(await byId(page, 'requestor-trust-policy').textContent(), /lambda\.amazonaws\.com/);
  await acknowledgeRequestorErrors(page);
  await shot(page, '08-requestor-preview');
  await byId(page, 'requestor-create').click();
  await byId(page, 'requestor-result').waitFor({ state: 'visible', timeout: SLOW });
  assert.equal(await byId(page, 'requestor-result-title').textContent(), 'Requestor role created');
  await shot(page, '09-requestor-created');
  await byId(page, 'requestor-next').click();

  // --- step 5: hand-off
  await byId(page, 'step-handoff').waitFor({ state: 'visible' });
  const ownerArn = (await byId(page, 'handoff-owner-role-arn').textContent()).trim();
  assert.match(ownerArn, new RegExp(`^arn:aws:iam::${OWNER}:role/xacct/${RUN}$`));
  const externalId = (await byId(page, 'handoff-external-id').textContent()).trim();
  assert.equal(externalId.length, 40, `a generated External ID has 40 characters: ${externalId}`);
  assert.match(externalId, /^[A-Za-z0-9]{40}$/);
  assert.match(await byId(page, 'handoff-requestor-role-arn').textContent(), new RegExp(`^arn:aws:iam::${REQUESTOR}:role/xacct/${RUN}-lambda$`));
  // The requestor side was made with the owner grant's expiry, and the hand-off says when
  // access ends.
  assert.equal((await byId(page, 'handoff-expires-at').textContent()).trim(), expires[1]);
  const cli = await byId(page, 'handoff-cli').textContent();
  assert.ok(cli.startsWith('aws sts assume-role'));
  assert.ok(cli.includes(`--role-arn ${ownerArn}`) && cli.includes(`--external-id ${externalId}`) && cli.includes('--role-session-name '));
  // The created role carries exactly the External ID the preview showed.
  assert.equal(externalId, previewedExternalId);
  assert.match(await byId(page, 'step-tab-4').getAttribute('class'), /done/);
  await byId(page, 'copy-external-id').click();
  await byId(page, 'toast').filter({ hasText: 'Copied' }).waitFor();
  await shot(page, '10-handoff');

  // Repeating the same creation changes nothing: the same expiry, given as the time it is
  // (`7d` again would extend the grant, an update).
  await byId(page, 'step-tab-3').click();
  await byId(page, 'expires-in').fill(expires[1]);
  await byId(page, 'owner-preview').click();
  await byId(page, 'no-changes').first().waitFor({ timeout: SLOW });
  assert.equal(await byId(page, 'access-diff').getAttribute('data-change'), 'none');
  await byId(page, 'owner-create').click();
  await byId(page, 'owner-result-title').filter({ hasText: 'Already up to date' }).waitFor({ timeout: SLOW });
  assert.equal(await ownerResult.getAttribute('data-changed'), 'false');
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, '11-owner-up-to-date');

  assert.deepEqual(problems, []);
  await page.close();
});

test('errors: an inline error on a bad account, the server\'s field error highlighted', { timeout: 400_000 }, async () => {
  const { page, problems } = await openConsole();
  await pasteArn(page, BUCKET_ARN);
  await page.locator('[data-action="s3:GetObject"] [data-testid="action-checkbox"]').check();
  await byId(page, 'actions-next').click();
  await byId(page, 'step-owner').waitFor({ state: 'visible' });

  // Checked in the browser: no request, the field itself is marked.
  let calls = 0;
  page.on('request', (r) => { if (r.url().includes('/api/create-owner-role')) calls += 1; });
  const account = byId(page, 'requestor-account');
  await account.fill('123');
  await byId(page, 'owner-preview').click();
  const inline = byId(page, 'requestor-account-error');
  await inline.waitFor({ state: 'visible' });
  assert.match(await inline.textContent(), /12 digits/);
  assert.equal(await account.getAttribute('aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'requestor-account', 'focus goes to the bad field');
  assert.equal(await byId(page, 'owner-preview-panel').isVisible(), false);
  assert.equal(calls, 0, 'nothing is sent with an invalid account');
  await shot(page, '12-error-inline-account');

  // Fixing it clears the error as you type.
  await account.fill(REQUESTOR);
  await inline.waitFor({ state: 'hidden' });
  assert.equal(await account.getAttribute('aria-invalid'), null);

  // The server's error names a field: the box shows its message, the field is highlighted.
  await byId(page, 'requestor-role-arn').fill('arn:aws:iam::333333333333:role/xacct/someone-else');
  await byId(page, 'owner-preview').click();
  const box = byId(page, 'owner-error');
  await box.waitFor({ state: 'visible', timeout: SLOW });
  assert.equal(calls, 1);
  assert.equal(await box.getAttribute('data-field'), 'requestor_role_arn');
  assert.equal(await byId(page, 'requestor-role-arn').getAttribute('aria-invalid'), 'true');
  const message = await box.getByTestId('error-message').textContent();
  assert.ok(message.length > 0);
  assert.equal(await byId(page, 'requestor-role-arn-error').textContent(), message);
  assert.doesNotMatch(await box.textContent(), /\bat .*\.(js|rs):\d+|panicked|stack backtrace/i, 'no stack trace');
  assert.equal(await byId(page, 'owner-create').isDisabled(), true);
  await shot(page, '13-error-server-field');

  assert.deepEqual(problems, []);
  await page.close();
});

test('hand-off: profile, code, "Check this grant"; the Grants page: check, revoke with confirmation', { timeout: 900_000 }, async () => {
  const { page, problems } = await openConsole();
  const roleName = `${RUN}-rv`;
  const ownerArn = await createOwnerRole(page, roleName);

  // --- step 4: a Lambda role, the default kind
  assert.equal(await byId(page, 'requestor-kind-service').isChecked(), true, 'a service is the default');
  assert.equal(await byId(page, 'requestor-principal-name').isVisible(), false, 'no group or user name for a service');
  await byId(page, 'service-principal').selectOption('lambda.amazonaws.com');
  await byId(page, 'requestor-role-name').fill(`${roleName}-fn`);
  await byId(page, 'requestor-preview').click();
  await byId(page, 'requestor-policy').filter({ hasText: 'sts:AssumeRole' }).waitFor({ timeout: SLOW });
  await acknowledgeRequestorErrors(page);
  await byId(page, 'requestor-create').click();
  await byId(page, 'requestor-result-title').filter({ hasText: 'Requestor role created' }).waitFor({ timeout: SLOW });
  const requestorArn = `arn:aws:iam::${REQUESTOR}:role/xacct/${roleName}-fn`;
  await byId(page, 'requestor-next').click();

  // --- step 5: the hand-off from the answers
  await byId(page, 'step-handoff').waitFor({ state: 'visible' });
  assert.equal((await byId(page, 'handoff-owner-role-arn').textContent()).trim(), ownerArn);
  const externalId = (await byId(page, 'handoff-external-id').textContent()).trim();
  const profile = await byId(page, 'handoff-profile').textContent();
  assert.match(profile, /^\[profile xacct-/, `a ~/.aws/config section: ${profile}`);
  assert.match(profile, new RegExp(`^role_arn = ${ownerArn.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm'), 'the profile names the owner role');
  assert.match(profile, new RegExp(`^external_id = ${externalId}$`, 'm'), 'the profile carries the External ID');
  const cli = await byId(page, 'handoff-cli').textContent();
  assert.ok(cli.startsWith('aws sts assume-role') && cli.includes(ownerArn) && cli.includes(externalId), cli);
  assert.equal(await byId(page, 'handoff-switch-role-wrap').isVisible(), false, 'no console link for a service');

  // CloudFormation and Terraform, in tabs (arrow keys move between them), copied or downloaded.
  const tabs = page.getByRole('tab');
  assert.deepEqual(await tabs.allTextContents(), [
    'Owner role · CloudFormation', 'Owner role · Terraform', 'Requestor role · CloudFormation', 'Requestor role · Terraform',
  ]);
  assert.equal(await byId(page, 'iac-tab-owner-cfn').getAttribute('aria-selected'), 'true');
  const cfn = await byId(page, 'iac-code-owner-cfn').textContent();
  assert.ok(JSON.parse(cfn).Resources, 'the CloudFormation is a JSON template');
  assert.ok(cfn.includes('AWS::IAM::Role'));
  await byId(page, 'iac-tab-owner-cfn').focus();
  await page.keyboard.press('ArrowRight');
  assert.equal(await byId(page, 'iac-tab-owner-tf').getAttribute('aria-selected'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'iac-tab-owner-tf');
  assert.equal(await byId(page, 'iac-panel-owner-cfn').isVisible(), false);
  assert.match(await byId(page, 'iac-code-owner-tf').textContent(), /resource "aws_iam_role"/);
  const [download] = await Promise.all([page.waitForEvent('download'), byId(page, 'download-owner-tf').click()]);
  assert.equal(download.suggestedFilename(), 'xacct-grant.tf');
  assert.equal(readFileSync(await download.path(), 'utf8'), await byId(page, 'iac-code-owner-tf').textContent());
  await byId(page, 'iac-tab-owner-cfn').click();
  const [cfnDownload] = await Promise.all([page.waitForEvent('download'), byId(page, 'download-owner-cfn').click()]);
  assert.equal(cfnDownload.suggestedFilename(), 'xacct-grant.cfn.json');
  await byId(page, 'toast').waitFor({ state: 'hidden' });
  await page.evaluate(() => document.getElementById('handoff-use-card').scrollIntoView());
  await shot(page, '14-handoff-profile');

  // One verdict from both sides.
  await byId(page, 'handoff-check').click();
  const verdict = byId(page, 'handoff-verdict').getByTestId('verdict');
  await verdict.waitFor({ timeout: SLOW });
  assert.equal(await verdict.getByTestId('verdict-title').textContent(), 'Works', await verdict.textContent());
  assert.equal(await verdict.getAttribute('data-works'), 'true');
  const cases = await verdict.getByTestId('assume-check').evaluateAll((rs) => rs.map((r) => [r.dataset.case, r.dataset.decision]));
  assert.deepEqual(cases.map(([c]) => c), ['as given', 'without an external id', 'with a wrong external id']);
  assert.equal(cases[0][1], 'allow');
  assert.ok(cases.slice(1).every(([, d]) => d !== 'allow'), 'without or with a wrong External ID is denied');
  const allowed = await verdict.getByTestId('allowed-action').allTextContents();
  assert.ok(allowed.includes('s3:GetObject') && allowed.includes('s3:ListBucket'), allowed.join(', '));
  assert.match(await verdict.getByTestId('requestor-check').textContent(), new RegExp(requestorArn.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
  await verdict.getByTestId('no-drift').waitFor();
  await page.evaluate(() => document.getElementById('handoff-check-card').scrollIntoView());
  await shot(page, '15-handoff-check-works');

  // --- the Grants page: not a step; the wizard keeps its state
  await byId(page, 'nav-grants').click();
  await byId(page, 'page-grants').waitFor({ state: 'visible' });
  assert.equal(await byId(page, 'stepper').isVisible(), false, 'no stepper on the grants page');
  assert.equal(await byId(page, 'nav-grants').getAttribute('aria-current'), 'page');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'grants-title');
  // A bad filter is caught in the browser.
  await byId(page, 'grants-filter-account').fill('12345');
  await byId(page, 'grants-apply').click();
  await byId(page, 'grants-filter-account-error').waitFor({ state: 'visible' });
  assert.equal(await byId(page, 'grants-filter-account').getAttribute('aria-invalid'), 'true');
  await byId(page, 'grants-filter-resource').fill(BUCKET_ARN);
  await byId(page, 'grants-filter-account').fill(REQUESTOR);
  await byId(page, 'grants-apply').click();
  const row = await findGrantRow(page, roleName);
  assert.equal(await row.getByTestId('grant-resource').textContent(), BUCKET_ARN);
  assert.equal(await row.getByTestId('grant-account').textContent(), REQUESTOR);
  assert.equal(await row.getByTestId('grant-actions').getAttribute('data-count'), '2');
  assert.match(await row.getByTestId('grant-last-used').textContent(), /never/);
  const resources = await page.getByTestId('grant-resource').allTextContents();
  assert.ok(resources.every((r) => r === BUCKET_ARN), 'the filter applies');

  // Check, inline.
  await row.getByTestId('grant-check').click();
  const inline = page.locator(`[data-testid="grant-check-row"][data-role-arn="${ownerArn}"]`);
  await inline.getByTestId('verdict-title').waitFor({ timeout: SLOW });
  assert.equal(await inline.getByTestId('verdict-title').textContent(), 'Works');
  await shot(page, '16-grants-check');

  // Revoke: Cancel first, and nothing happens.
  let revokes = 0;
  page.on('request', (r) => { if (r.url().includes('/api/revoke-grant')) revokes += 1; });
  const dialog = byId(page, 'revoke-dialog');
  const revokeButton = row.getByTestId('grant-revoke');
  await revokeButton.click();
  await dialog.waitFor({ state: 'visible' });
  assert.equal(await byId(page, 'revoke-role-name').textContent(), roleName);
  const what = await byId(page, 'revoke-what').textContent();
  assert.ok(what.includes(ownerArn) && what.includes('xacct-grant'), what);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'revoke-confirm-input', 'focus goes to the confirmation');
  assert.equal(await byId(page, 'revoke-confirm').isDisabled(), true, 'Revoke needs the role name typed');
  await byId(page, 'revoke-confirm-input').fill(`${roleName}-typo`);
  assert.equal(await byId(page, 'revoke-confirm').isDisabled(), true);
  await shot(page, '17-revoke-dialog');
  await byId(page, 'revoke-cancel').click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'grant-revoke', 'focus returns to the button');
  assert.equal(revokes, 0, 'Cancel sends nothing');
  assert.equal(await row.count(), 1, 'the row stays');
  const still = await page.evaluate((body) => fetch('/api/check-owner-role', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  }).then((r) => r.status), { role_arn: ownerArn, principal_arn: `arn:aws:iam::${REQUESTOR}:root`, external_id: externalId });
  assert.equal(still, 200, 'the role is still there');

  // A refusal (409) shows in the dialog, which stays open; then Revoke for real.
  await page.route('**/api/revoke-grant', (route) => route.fulfill({
    status: 409, contentType: 'application/json',
    body: JSON.stringify({ error: { code: 'NotAGrant', message: 'role_arn names an xacct role that records no grant', field: 'role_arn' } }),
  }), { times: 1 });
  await revokeButton.click();
  await dialog.waitFor({ state: 'visible' });
  await byId(page, 'revoke-confirm-input').fill(roleName);
  assert.equal(await byId(page, 'revoke-confirm').isEnabled(), true);
  await byId(page, 'revoke-confirm').click();
  const revokeError = byId(page, 'revoke-error');
  await revokeError.waitFor({ state: 'visible' });
  assert.equal(await revokeError.getByTestId('error-code').textContent(), 'NotAGrant');
  assert.match(await revokeError.textContent(), /Conflict.*records no grant/);
  assert.equal(await dialog.isVisible(), true, 'the dialog stays open');
  assert.equal(await row.count(), 1);
  await page.unrouteAll();
  await byId(page, 'revoke-confirm').click();
  await dialog.waitFor({ state: 'hidden', timeout: SLOW });
  const result = byId(page, 'grants-result');
  await result.waitFor({ state: 'visible' });
  assert.equal(await byId(page, 'grants-result-title').textContent(), `Revoked ${roleName}`);
  const removed = await page.getByTestId('removed-item').allTextContents();
  assert.ok(removed.some((x) => x.includes('xacct-grant')), removed.join(' | '));
  assert.ok(removed.some((x) => x.includes(ownerArn)), removed.join(' | '));
  assert.equal(await row.count(), 0, 'the row is gone');
  assert.equal(await inline.count(), 0, 'its check too');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'grants-result');
  assert.equal(revokes, 2);
  await shot(page, '18-grants-revoked');

  // Back in the wizard, the same check now says the role is gone.
  await byId(page, 'nav-wizard').click();
  await byId(page, 'step-handoff').waitFor({ state: 'visible' });
  await byId(page, 'handoff-check').click();
  const gone = byId(page, 'handoff-error');
  await gone.waitFor({ state: 'visible', timeout: SLOW });
  assert.equal(await gone.getByTestId('error-code').textContent(), 'RoleNotFound');
  assert.match(await gone.textContent(), /^Not found/);
  assert.equal(await byId(page, 'handoff-verdict').getByTestId('verdict').count(), 0, 'no verdict');
  await page.evaluate(() => document.getElementById('handoff-check-card').scrollIntoView());
  await shot(page, '19-handoff-check-gone');

  // Leave the requestor account as it was.
  const cleanup = await page.evaluate((arn) => fetch('/api/revoke-requestor-resources', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role_arn: arn }),
  }).then((r) => r.status), requestorArn);
  assert.equal(cleanup, 200);

  assert.deepEqual(problems, []);
  await page.close();
});

test('a group as the requestor: its policy, the switch-role link, one verdict', { timeout: 900_000 }, async () => {
  const { page, problems } = await openConsole();
  const roleName = `${RUN}-grp`;
  const group = 'xacct-demo-analysts';
  const ownerArn = await createOwnerRole(page, roleName, { mfa: true });

  // --- step 4: people, not a service
  await byId(page, 'requestor-mfa-warning').waitFor({ state: 'visible' });
  await byId(page, 'requestor-kind-group').check();
  assert.equal(await byId(page, 'requestor-mfa-warning').isVisible(), false, 'the MFA warning is about services');
  assert.equal(await byId(page, 'service-principal').isVisible(), false);
  assert.equal(await byId(page, 'requestor-role-name').isVisible(), false, 'people get no role');
  // Checked in the browser: a name is required.
  let calls = 0;
  page.on('request', (r) => { if (r.url().includes('/api/create-requestor-resources')) calls += 1; });
  await byId(page, 'requestor-preview').click();
  await byId(page, 'requestor-principal-name-error').waitFor({ state: 'visible' });
  assert.match(await byId(page, 'requestor-principal-name-error').textContent(), /Required/);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'requestor-principal-name');
  assert.equal(calls, 0);
  // A group that does not exist: the server's 404 names the field.
  await byId(page, 'requestor-principal-name').fill(`${group}-nobody`);
  await byId(page, 'requestor-preview').click();
  await byId(page, 'requestor-error').waitFor({ state: 'visible', timeout: SLOW });
  assert.equal(await byId(page, 'requestor-error').getByTestId('error-code').textContent(), 'PrincipalNotFound');
  assert.equal(await byId(page, 'requestor-principal-name').getAttribute('aria-invalid'), 'true');

  await byId(page, 'requestor-principal-name').fill(group);
  await byId(page, 'requestor-require-mfa').check();
  await byId(page, 'requestor-preview').click();
  await byId(page, 'requestor-policy').filter({ hasText: 'sts:AssumeRole' }).waitFor({ timeout: SLOW });
  assert.match(await byId(page, 'requestor-policy').textContent(), /aws:MultiFactorAuthPresent/, 'MFA is required by the policy');
  assert.equal(await byId(page, 'requestor-trust-policy').isVisible(), false, 'no trust policy: no role');
  assert.match(await byId(page, 'requestor-preview-summary').textContent(), new RegExp(`on group arn:aws:iam::${REQUESTOR}:group/(.*/)?${group}`));
  await acknowledgeRequestorErrors(page);
  await shot(page, '20-requestor-group-preview');
  await byId(page, 'requestor-create').click();
  await byId(page, 'requestor-result-title').filter({ hasText: 'Policy put on the group' }).waitFor({ timeout: SLOW });
  assert.match(await byId(page, 'requestor-principal-arn-result').textContent(), new RegExp(`:group/(.*/)?${group}$`));
  await byId(page, 'requestor-next').click();

  // --- step 5: the console link, for people
  await byId(page, 'step-handoff').waitFor({ state: 'visible' });
  assert.match(await byId(page, 'handoff-requestor-principal-arn').textContent(), new RegExp(`:group/(.*/)?${group}$`));
  const link = byId(page, 'handoff-switch-role');
  await link.waitFor({ state: 'visible' });
  const href = await link.getAttribute('href');
  assert.ok(href.startsWith('https://signin.aws.amazon.com/switchrole?'), href);
  assert.ok(href.includes(`account=${OWNER}`) && href.includes(encodeURIComponent(roleName).slice(0, 10)), href);
  assert.equal(await link.textContent(), href);
  assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
  const profile = await byId(page, 'handoff-profile').textContent();
  assert.match(profile, /^role_arn = /m);
  assert.match(profile, /^external_id = /m);
  const notes = await page.getByTestId('handoff-note').allTextContents();
  assert.ok(notes.some((n) => n.includes('mfa_serial')), `with MFA, a note says to set the device: ${notes.join(' | ')}`);
  assert.deepEqual(await page.getByRole('tab').allTextContents(), [
    'Owner role · CloudFormation', 'Owner role · Terraform', 'Requestor group policy · CloudFormation', 'Requestor group policy · Terraform',
  ]);
  await byId(page, 'iac-tab-requestor-tf').click();
  assert.match(await byId(page, 'iac-code-requestor-tf').textContent(), /aws_iam_group_policy/);
  const [download] = await Promise.all([page.waitForEvent('download'), byId(page, 'download-requestor-tf').click()]);
  assert.equal(download.suggestedFilename(), 'xacct-requestor.tf');
  await byId(page, 'toast').waitFor({ state: 'hidden' });
  assert.match(await byId(page, 'handoff-check-hint').textContent(), /and MFA/);
  await byId(page, 'handoff-check').click();
  const verdict = byId(page, 'handoff-verdict').getByTestId('verdict');
  await verdict.waitFor({ timeout: SLOW });
  assert.equal(await verdict.getByTestId('verdict-title').textContent(), 'Works', await verdict.textContent());
  assert.match(await verdict.getByTestId('requestor-check').textContent(), new RegExp(`:group/(.*/)?${group}`));
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, '21-handoff-group');
  await page.evaluate(() => document.getElementById('handoff-check-card').scrollIntoView());
  await shot(page, '22-handoff-group-check');

  // Leave both accounts as they were: the group's policy, then the grant.
  const statuses = await page.evaluate(async ({ ownerRoleArn, groupName }) => {
    const post = (path, body) => fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.status);
    return [
      await post('/api/revoke-requestor-resources', { group_name: groupName, owner_role_arn: ownerRoleArn }),
      await post('/api/revoke-grant', { role_arn: ownerRoleArn }),
    ];
  }, { ownerRoleArn: ownerArn, groupName: group });
  assert.deepEqual(statuses, [200, 200]);

  assert.deepEqual(problems, []);
  await page.close();
});

test('simulate: the evaluator on pasted policies, with the deciding statement', async () => {
  const { page, problems } = await openConsole();
  await byId(page, 'nav-simulate').click();
  await byId(page, 'page-simulate').waitFor();
  await byId(page, 'sim-principal').fill('arn:aws:iam::111111111111:user/ana');
  await byId(page, 'sim-action').fill('s3:GetObject');
  await byId(page, 'sim-resource').fill('arn:aws:s3:::reports/q4.csv');
  await byId(page, 'sim-identity').fill(JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Read', Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] }));
  await byId(page, 'sim-run').click();
  const verdict = byId(page, 'sim-verdict');
  await verdict.waitFor();
  assert.equal(await verdict.getAttribute('data-decision'), 'allow');
  assert.match(await verdict.textContent(), /Sid Read/);
  // A boundary that does not allow it: denied, and the page says why.
  await byId(page, 'sim-boundary').fill(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:*', Resource: '*' }] }));
  await byId(page, 'sim-run').click();
  await page.locator('[data-testid="sim-verdict"][data-decision="implicit_deny"]').waitFor();
  assert.match(await byId(page, 'sim-reason').textContent(), /permissions boundary/);
  await shot(page, '30-simulate');
  assert.deepEqual(problems, []);
  await page.close();
});

test('organization: pick a member account, share its bucket there, revoke the grant', { timeout: 900_000 }, async () => {
  const { page, problems } = await openConsole();
  // Every owner call the page makes, with the account it names (query or body).
  const ownerCalls = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    const fn = u.pathname.replace(/^\/api\//, '');
    if (!['list-resources', 'create-owner-role', 'list-grants', 'check-owner-role', 'revoke-grant'].includes(fn)) return;
    const body = r.postData() ? JSON.parse(r.postData()) : {};
    ownerCalls.push({ fn, account: u.searchParams.get('account_id') ?? body.account_id ?? null });
  });

  // The picker: the hub first, then the members; one the hub cannot reach is shown with
  // its reason and cannot be picked.
  const picker = byId(page, 'account-picker');
  await picker.waitFor({ timeout: SLOW });
  const options = await picker.locator('option').evaluateAll((os) => os.map((o) => ({
    value: o.value, account: o.dataset.account, spoke: o.dataset.spoke, disabled: o.disabled, text: o.textContent,
  })));
  assert.equal(options[0].spoke, 'hub');
  assert.equal(options[0].account, OWNER);
  assert.equal(options[0].value, '', 'the hub is the default, and sends no account_id');
  const down = options.filter((o) => o.spoke === 'unreachable');
  assert.equal(down.length, 1, JSON.stringify(options));
  assert.equal(down[0].disabled, true);
  assert.match(down[0].text, /unreachable: \S+/);
  const members = options.filter((o) => o.spoke === 'reachable');
  assert.ok(members.length >= 2 && members.every((o) => !o.disabled), JSON.stringify(options));
  const member = members[0].account;
  await shot(page, '40-account-picker');

  // Picking the member lists its resources: its demo bucket is discovered there.
  await picker.selectOption(member);
  await page.locator('[data-bind="owner-account"]').first().filter({ hasText: member }).waitFor();
  const row = page.locator(`[data-testid="resource-row"][data-arn$="-reports-${member}"]`);
  await row.waitFor({ timeout: SLOW });
  const bucketArn = await row.getAttribute('data-arn');
  await shot(page, '41-member-resources');
  await row.getByTestId('resource-radio').check();
  await byId(page, 'resource-next').click();
  await byId(page, 'step-actions').waitFor({ state: 'visible', timeout: SLOW });
  await page.locator('[data-action="s3:ListBucket"] [data-testid="action-checkbox"]').check();
  await byId(page, 'actions-next').click();
  await byId(page, 'step-owner').waitFor({ state: 'visible' });
  const roleName = `${RUN}-member`;
  await byId(page, 'requestor-account').fill(REQUESTOR);
  await byId(page, 'owner-role-name').fill(roleName);
  await byId(page, 'owner-preview').click();
  await byId(page, 'owner-preview-panel').waitFor({ state: 'visible', timeout: SLOW });
  await byId(page, 'owner-create').click();
  await byId(page, 'owner-result-title').filter({ hasText: 'Role created' }).waitFor({ timeout: SLOW });
  const ownerArn = `arn:aws:iam::${member}:role/xacct/${roleName}`;
  assert.equal(await byId(page, 'owner-role-arn').textContent(), ownerArn);
  await shot(page, '42-member-role-created');

  // The grants page lists the member's grants: check it, then revoke it there.
  await byId(page, 'nav-grants').click();
  await byId(page, 'page-grants').waitFor({ state: 'visible' });
  const grant = await findGrantRow(page, roleName);
  assert.equal(await grant.getAttribute('data-role-arn'), ownerArn);
  assert.equal(await grant.getByTestId('grant-resource').textContent(), bucketArn);
  await grant.getByTestId('grant-check').click();
  const inline = page.locator(`[data-testid="grant-check-row"][data-role-arn="${ownerArn}"]`);
  await inline.getByTestId('verdict-title').waitFor({ timeout: SLOW });
  assert.equal(await inline.getByTestId('verdict-title').textContent(), 'Works');
  await grant.getByTestId('grant-revoke').click();
  await byId(page, 'revoke-dialog').waitFor({ state: 'visible' });
  await byId(page, 'revoke-confirm-input').fill(roleName);
  await byId(page, 'revoke-confirm').click();
  await byId(page, 'revoke-dialog').waitFor({ state: 'hidden', timeout: SLOW });
  assert.equal(await byId(page, 'grants-result-title').textContent(), `Revoked ${roleName}`);
  assert.equal(await grant.count(), 0, 'the row is gone');
  await shot(page, '43-member-grant-revoked');

  // Every owner call after the pick named the member; before it, none named an account.
  const picked = ownerCalls.findIndex((c) => c.account !== null);
  assert.ok(picked >= 0, JSON.stringify(ownerCalls));
  assert.ok(ownerCalls.slice(0, picked).every((c) => c.fn === 'list-resources'), JSON.stringify(ownerCalls));
  const after = ownerCalls.slice(picked);
  assert.ok(after.every((c) => c.account === member), JSON.stringify(after));
  assert.deepEqual([...new Set(after.map((c) => c.fn))].sort(),
    ['check-owner-role', 'create-owner-role', 'list-grants', 'list-resources', 'revoke-grant']);
  assert.deepEqual(problems, []);
  await page.close();
});
