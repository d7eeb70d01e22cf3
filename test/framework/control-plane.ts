// startControlPlane() for tests: the same code path as `hubspoke server`, on 127.0.0.1 port 0 in a temp dir,
// stopped and removed when the test ends.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../src/cli/control-plane.js';
import type { ApiServerOptions } from '../../src/apiserver/options.js';
import type { ControllerManagerOptions } from '../../src/controllers/options.js';
import { newLogger } from '../../src/lib/log.js';

export interface TestControlPlane extends ControlPlane {
  dataDir: string;
  url: string;
}

type Hook = { after(fn: () => Promise<void>): void } | TestContext;

export async function startTestControlPlane(
  t: Hook,
  overrides: Partial<ApiServerOptions> = {},
  controllerOpts: ControllerManagerOptions = {}
): Promise<TestControlPlane> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hubspoke-test-'));
  const log = newLogger({ format: 'json', level: process.env.HUBSPOKE_TEST_LOG_LEVEL ?? 'silent' });
  const cp = await startControlPlane(
    { dataDir, securePort: 0, bindAddress: '127.0.0.1', serviceClusterIPRange: '127.96.0.0/16', ...overrides },
    log,
    true,
    controllerOpts
  );
  t.after(async () => {
    await cp.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  return Object.assign(cp, { dataDir, url: cp.server.address });
}
