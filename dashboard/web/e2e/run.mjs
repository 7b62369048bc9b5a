// Runs every browser scenario in this folder one after another (each starts
// its own `frontdesk serve`), building the binary once when FD_BIN is unset.
// Exits non-zero when any scenario failed; a failure does not stop the rest.
//
//   npm run test:e2e                        (all scenarios)
//   node e2e/run.mjs takeover               (only those whose name contains "takeover")

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { binary, makeLog } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const log = makeLog('e2e');
const scenarios = ['inbox.e2e.mjs', 'takeover.e2e.mjs', 'customers.e2e.mjs', 'agents.e2e.mjs', 'realtime.e2e.mjs', 'commerce.e2e.mjs', 'money.e2e.mjs', 'knowledge.e2e.mjs'].filter((f) => process.argv.slice(2).every((a) => f.includes(a)));
const env = { ...process.env, FD_BIN: binary(log) };
const failed = [];
for (const f of scenarios) {
  log('running', f);
  const r = spawnSync(process.execPath, [path.join(here, f)], { env, stdio: 'inherit' });
  if (r.status !== 0) failed.push(`${f} (${r.signal ?? 'exit ' + r.status})`);
}
log(failed.length ? `FAILED: ${failed.join(', ')}` : `all ${scenarios.length} scenarios passed`);
process.exitCode = failed.length || scenarios.length === 0 ? 1 : 0;
