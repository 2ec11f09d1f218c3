import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { signWhatsAppBody } from '../../src/channels/whatsapp-cloud/whatsapp-cloud.signature.ts';
import { createSparsam } from '../../src/main.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { createLogger } from '../../src/shared/logger.ts';
import {
  APP_SECRET,
  CUSTOMER,
  buttonReply,
  startGraphStand,
  textMessage,
  type GraphStand,
} from '../inbox/inbox-world.ts';
import { configYaml } from '../support/instances.ts';
import { describeEachStore, openTestStore, type TestStore } from '../support/stores.ts';
import { runCli as run } from '../support/cli.ts';

describeEachStore('sparsam dsar / channel / ropa as processes', (dialect) => {
  let t: TestStore;
  let graph: GraphStand;
  let env: Record<string, string>;

  beforeEach(async () => {
    t = await openTestStore(dialect);
    await t.store.close();
    graph = await startGraphStand();
    const configFile = path.join(t.dataDir, 'sparsam.yaml');
    writeFileSync(configFile, configYaml(graph.url, { language: false }));
    env = { ...t.env, SPARSAM_CONFIG: configFile, SPARSAM_LOG_LEVEL: 'silent' };
    // A running sparsam receives one customer who agrees to the notice.
    const clock = new ManualClock(Date.now());
    const sparsam = await createSparsam(loadConfig({ env }), { clock, logger: createLogger({ level: 'silent' }) });
    const post = (body: unknown) => {
      const raw = JSON.stringify(body);
      return sparsam.http.inject({
        method: 'POST',
        url: '/webhooks/whatsapp/wa-main',
        payload: raw,
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWhatsAppBody(APP_SECRET, raw) },
      });
    };
    expect((await post(textMessage(clock, 'wamid.C1', 'Bitte um Rückruf wegen Bremsen'))).statusCode).toBe(200);
    await sparsam.jobs.drain();
    expect((await post(buttonReply(clock, 'wamid.C2', CONSENT_AGREE_ID, 'Zustimmen'))).statusCode).toBe(200);
    await sparsam.jobs.drain();
    await sparsam.close();
  });
  afterEach(async () => {
    await graph.close();
    await t.cleanup();
  });

  it('exports to a private file with a summary, then erases with a printed receipt', async () => {
    const out = path.join(t.dataDir, 'export.json');
    const html = path.join(t.dataDir, 'export.html');
    const exported = await run(
      [
        'dsar',
        'export',
        '--channel',
        'wa-main',
        '--address',
        `+${CUSTOMER}`,
        '--out',
        out,
        '--html',
        html,
        '--lang',
        'en',
      ],
      env,
    );
    expect(exported.stderr).toContain('exported Anfrage 1: 1 conversations');
    expect(exported.code).toBe(0);
    const bundle = JSON.parse(readFileSync(out, 'utf8'));
    expect(bundle.subject.address).toBe(CUSTOMER);
    expect(bundle.conversations[0].messages[0].text).toBe('Bitte um Rückruf wegen Bremsen');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(html, 'utf8')).toContain('Bitte um Rückruf wegen Bremsen');
    expect(readFileSync(html, 'utf8')).toContain('Subject access');

    const erased = await run(
      ['dsar', 'erase', '--channel', 'wa-main', '--address', CUSTOMER, '--reason', 'Art. 17 request, ticket 17'],
      env,
    );
    expect(erased.stderr).toBe('');
    expect(erased.code).toBe(0);
    expect(erased.stdout).toContain('erased Anfrage 1');
    expect(erased.stdout).toMatch(/conversations 1, messages \d+, files 0, consent entries 1, keys destroyed [2-9]/);
    expect(erased.stdout).toMatch(/receipt: audit entry \d+ at /);

    const again = await run(['dsar', 'export', '--channel', 'wa-main', '--address', CUSTOMER], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('sparsam holds no data for this address');
    expect(again.stdout).toBe('');
  }, 300_000);

  it('switches a channel off and on with a reason, and prints the record of processing', async () => {
    const off = await run(['channel', 'disable', 'wa-main', '--reason', 'token leaked, rotating'], env);
    expect(off.stderr).toBe('');
    expect(off.stdout).toMatch(/wa-main is disabled; audit entry \d+/);
    const ropa = await run(['ropa', '--lang', 'en'], env);
    expect(ropa.stdout).toContain('# Record of processing activities (Art. 30(1) GDPR)');
    expect(ropa.stdout).toContain('WhatsApp (Cloud API) (wa-main, switched off)');
    expect(ropa.stdout).toContain('Meta Platforms Ireland Limited');
    const on = await run(['channel', 'enable', 'wa-main', '--reason', 'token rotated'], env);
    expect(on.stdout).toMatch(/wa-main is enabled; audit entry \d+/);
  }, 300_000);
});
