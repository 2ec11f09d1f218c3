import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const yaml = (text: string) => () => text;

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('uses the documented defaults when nothing is set', () => {
    const config = loadConfig({ env: {} });
    expect(config.port).toBe(8080);
    expect(config.dataDir.endsWith('/data')).toBe(true);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.inboxes).toHaveLength(1);
    expect(config.inboxes[0]).toMatchObject({ id: 'service', language: 'de', labelPrefix: 'Anfrage', media: 'strip' });
    expect(config.baseUrl).toBe('http://localhost:8080');
  });

  it('is frozen, deeply', () => {
    const config = loadConfig({ env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.inboxes[0]!.retention)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow();
  });

  it('names the key, the problem and an example for a bad port', () => {
    const problems = problemsOf(() => loadConfig({ env: { SPARSAM_PORT: 'eighty' } }));
    expect(problems).toEqual([expect.stringMatching(/^SPARSAM_PORT: must be a whole number.*\(example: 8080\)$/)]);
  });

  it('refuses a master key that is not 32 bytes without printing it', () => {
    const problems = problemsOf(() => loadConfig({ env: { SPARSAM_MASTER_KEY: 'dG9vLXNob3J0' } }));
    expect(problems[0]).toMatch(/^SPARSAM_MASTER_KEY: must be 32 random bytes in base64/);
    expect(problems.join()).not.toContain('dG9vLXNob3J0');
  });

  it('reads channels from YAML and resolves env: secrets', () => {
    const config = loadConfig({
      env: { SPARSAM_CONFIG: 'x.yaml', WA_TOKEN: 't0ken', WA_APP_SECRET: 's3cret', WA_VERIFY: 'v' },
      readFile: yaml(`
organisation: { name: Autohaus Beispiel GmbH, contact: datenschutz@example.org }
inboxes:
  - id: service
    language: en
    retention: { consentTimeoutHours: 12, autoCloseAfterDays: 7, eraseAfterCloseDays: 30 }
channels:
  - id: wa-main
    kind: whatsapp-cloud
    inbox: service
    phoneNumberId: "106540352242922"
    accessToken: env:WA_TOKEN
    appSecret: env:WA_APP_SECRET
    verifyToken: env:WA_VERIFY
`),
    });
    expect(config.inboxes[0]).toMatchObject({ labelPrefix: 'Request', retention: { eraseAfterCloseDays: 30 } });
    expect(config.channels[0]).toMatchObject({
      kind: 'whatsapp-cloud',
      accessToken: 't0ken',
      graphBaseUrl: 'https://graph.facebook.com',
      messagesPerSecond: 80,
    });
  });

  it('reports every problem of a broken file at once, each with its path', () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: { SPARSAM_CONFIG: 'x.yaml' },
        readFile: yaml(`
inboxes:
  - id: Service Desk
    media: blur
channels:
  - id: wa-main
    kind: whatsapp-cloud
    inbox: sales
    phoneNumberId: 106540352242922
    accessToken: env:MISSING_TOKEN
    appSecret: x
    verifyToken: y
  - id: tg
    kind: telegrm
    inbox: service
`),
      }),
    );
    const text = problems.join('\n');
    expect(text).toContain('inboxes[0].id: must be lower-case letters');
    expect(text).toContain('inboxes[0].media:');
    expect(text).toContain('channels[0].accessToken: refers to environment variable MISSING_TOKEN, which is not set');
    expect(text).toContain('channels[0].phoneNumberId:');
    expect(text).toContain('channels[1].kind:');
  });

  it('refuses a channel pointing at an undeclared inbox', () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: { SPARSAM_CONFIG: 'x.yaml' },
        readFile: yaml(`
channels:
  - { id: tg, kind: telegram, inbox: sales, botToken: "1:abc", secretToken: abc_123 }
`),
      }),
    );
    expect(problems).toEqual(['channels[0].inbox: no inbox with id "sales" (declared: service)']);
  });

  it('says when the file cannot be read', () => {
    const problems = problemsOf(() => loadConfig({ env: { SPARSAM_CONFIG: '/nonexistent/sparsam.yaml' } }));
    expect(problems[0]).toContain('SPARSAM_CONFIG: cannot read /nonexistent/sparsam.yaml: file not found');
  });

  it('rejects unknown keys so that typos do not pass silently', () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: { SPARSAM_CONFIG: 'x.yaml' },
        readFile: yaml('inboxes:\n  - id: service\n    langauge: de\n'),
      }),
    );
    expect(problems[0]).toMatch(/inboxes\[0\].*unknown key\(s\) langauge/);
  });

  it('takes an automated message as one text or one per language, and refuses an empty one', () => {
    const config = loadConfig({
      env: { SPARSAM_CONFIG: 'x.yaml' },
      readFile: yaml(`
inboxes:
  - id: service
    language: en
    automation:
      greeting: { de: "Willkommen!", en: "Welcome!" }
      away: { text: "Back at 8.", timeZone: Europe/Berlin, hours: { mon: ["08:00-18:00"] } }
`),
    });
    expect(config.inboxes[0]!.automation?.greeting).toEqual({ de: 'Willkommen!', en: 'Welcome!' });
    expect(config.inboxes[0]!.automation?.away?.text).toBe('Back at 8.');
    const problems = problemsOf(() =>
      loadConfig({
        env: { SPARSAM_CONFIG: 'x.yaml' },
        readFile: yaml('inboxes:\n  - id: service\n    automation:\n      greeting: {}\n'),
      }),
    );
    expect(problems.join('\n')).toMatch(/inboxes\[0\]\.automation\.greeting/);
  });
});
