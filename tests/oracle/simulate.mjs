// The other evaluator of crates/policy/tests/differential.rs: reads the generated cases
// (a JSON array) from the file named by the first argument, runs each through
// @cloud-copilot/iam-simulate's runSimulation, and writes one answer per case, in order, to
// the file named by the second: {"decision": "allow" | "explicit_deny" | "implicit_deny"},
// or {"error": ...} when the simulator refuses the input. Keys it ignored as not applying to
// the request are reported too ("ignored"), so the test can insist there are none.
//
// A case: {principal, action, resource, resource_account, context, identity: [policy],
// boundary, resource_policy, session, scps: [policy], rcps: [policy]}; `principal` is an ARN,
// a service principal's name, or null for an anonymous request; each SCP or RCP is one level
// of the organization, root first.

import { readFile, writeFile } from 'node:fs/promises';
import { anonymousPrincipal, runSimulation } from '@cloud-copilot/iam-simulate';

const DECISIONS = {
  Allowed: 'allow',
  ExplicitlyDenied: 'explicit_deny',
  ImplicitlyDenied: 'implicit_deny',
};

function levels(policies, kind) {
  return policies.map((policy, i) => ({
    orgIdentifier: `${kind}-level-${i}`,
    policies: [{ name: `${kind}-${i}`, policy }],
  }));
}

function simulation(c) {
  return {
    request: {
      principal: c.principal ?? anonymousPrincipal,
      action: c.action,
      resource: { resource: c.resource, accountId: c.resource_account },
      contextVariables: c.context,
    },
    identityPolicies: c.identity.map((policy, i) => ({ name: `identity-${i}`, policy })),
    serviceControlPolicies: levels(c.scps, 'scp'),
    resourceControlPolicies: levels(c.rcps, 'rcp'),
    resourcePolicy: c.resource_policy ?? undefined,
    permissionBoundaryPolicies: c.boundary ? [{ name: 'boundary', policy: c.boundary }] : undefined,
    sessionPolicy: c.session ?? undefined,
    // Tag keys on S3 resources are part of the request like anywhere else.
    additionalSettings: { s3: { bucketAbacEnabled: true } },
  };
}

async function answer(c) {
  const result = await runSimulation(simulation(c), { simulationMode: 'Strict' });
  if (result.resultType === 'error') {
    return { error: result.errors };
  }
  if (result.resultType !== 'single') {
    return { error: `unexpected result type ${result.resultType}` };
  }
  const out = { decision: DECISIONS[result.overallResult] ?? result.overallResult };
  const ignored = result.result.ignoredContextKeys ?? [];
  if (ignored.length > 0) {
    out.ignored = ignored;
  }
  return out;
}

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node simulate.mjs CASES.json ANSWERS.json');
  process.exit(2);
}
const cases = JSON.parse(await readFile(input, 'utf8'));
const answers = [];
for (const c of cases) {
  try {
    answers.push(await answer(c));
  } catch (e) {
    answers.push({ error: String(e && e.stack ? e.stack : e) });
  }
}
await writeFile(output, JSON.stringify(answers));
