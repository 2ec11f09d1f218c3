import { describe, expect, it } from 'vitest';
import { createLogger, formatLogLine } from './logger.ts';

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(line) } };
}

describe('the readable log lines for a terminal', () => {
  it('prints time, level and message as a line, not JSON', () => {
    const out = capture();
    createLogger({ pretty: true, destination: out.destination }).warn({ listen: 'http://127.0.0.1:8080' }, 'hello');
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatch(/^\d\d:\d\d:\d\d WARN {2}hello {2}listen=http:\/\/127\.0\.0\.1:8080\n$/);
    expect(() => JSON.parse(out.lines[0]!)).toThrow();
  });

  it('still redacts secrets, addresses and bodies', () => {
    const out = capture();
    createLogger({ pretty: true, destination: out.destination }).info(
      { token: 'spt_secret', message: { from: '+4915112345678', text: 'Hallo' } },
      'inbound',
    );
    expect(out.lines[0]).not.toContain('spt_secret');
    expect(out.lines[0]).not.toContain('4915112345678');
    expect(out.lines[0]).not.toContain('Hallo');
    expect(out.lines[0]).toContain('[redacted]');
  });

  it('stays JSON without pretty', () => {
    const out = capture();
    createLogger({ destination: out.destination }).info('plain');
    expect(JSON.parse(out.lines[0]!).msg).toBe('plain');
    expect(formatLogLine('not json\n')).toBe('not json\n');
  });
});
