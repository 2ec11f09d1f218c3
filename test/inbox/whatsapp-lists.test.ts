import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { interactiveList, LIST_LIMITS } from '../../src/core/inbox/interactive-list.ts';
import { consentedConversation } from '../compliance/compliance-world.ts';
import { describeEachStore } from '../support/stores.ts';
import { CUSTOMER, startWorld, textMessage, type World } from './inbox-world.ts';

/** A customer message of any type, as Meta posts it. */
function customerMessage(w: World, message: Record<string, unknown>): Record<string, unknown> {
  const payload = textMessage(w.clock, String(message.id), 'x') as {
    entry: { changes: { value: { messages: Record<string, unknown>[] } }[] }[];
  };
  payload.entry[0]!.changes[0]!.value.messages = [
    { from: CUSTOMER, timestamp: String(Math.floor(w.clock.now().getTime() / 1000)), ...message },
  ];
  return payload;
}

const rows = (n: number, prefix = 'Termin') => Array.from({ length: n }, (_, i) => ({ title: `${prefix} ${i + 1}` }));

interface View {
  id: string;
  kind: string;
  text: string | null;
  list?: { button: string; sections: { title?: string; rows: { id: string; title: string }[] }[] };
  replyTo?: { id: string; text: string | null };
}

describeEachStore('interactive lists sent by agents (WhatsApp)', (dialect) => {
  let w: World;
  let conversationId: string;
  beforeEach(async () => {
    w = await startWorld(dialect);
    conversationId = await consentedConversation(w, CUSTOMER, 'Wann ist mein Termin?', 'LIST');
  });
  afterEach(async () => {
    await w.close();
  });
  const url = () => `/api/v1/conversations/${conversationId}/messages`;
  const thread = async () =>
    (await w.api('GET', `/api/v1/conversations/${conversationId}`, undefined, w.adminToken)).json() as {
      conversation: { canSendLists: boolean };
      messages: View[];
    };

  it("refuses a list over WhatsApp's limits with a stable reason, and sends nothing", async () => {
    expect((await thread()).conversation.canSendLists).toBe(true);
    const before = w.graph.sends.length;
    const messagesBefore = (await thread()).messages.length;
    const cases: [string, Record<string, unknown>][] = [
      ['list_rows', { text: 'Wann?', list: { button: 'Termine', sections: [{ rows: rows(11) }] } }],
      [
        'list_rows',
        {
          text: 'Wann?',
          list: {
            button: 'Termine',
            sections: [
              { title: 'Vormittag', rows: rows(6, 'Früh') },
              { title: 'Nachmittag', rows: rows(5, 'Spät') },
            ],
          },
        },
      ],
      ['list_button', { text: 'Wann?', list: { button: 'x'.repeat(21), sections: [{ rows: rows(2) }] } }],
      ['list_button', { text: 'Wann?', list: { button: '  ', sections: [{ rows: rows(2) }] } }],
      ['list_sections', { text: 'Wann?', list: { button: 'Termine', sections: [] } }],
      [
        'list_sections',
        {
          text: 'Wann?',
          list: { button: 'Termine', sections: Array.from({ length: 11 }, (_, i) => ({ title: `S${i}`, rows: [] })) },
        },
      ],
      [
        'list_row_title',
        { text: 'Wann?', list: { button: 'Termine', sections: [{ rows: [{ title: 'x'.repeat(25) }] }] } },
      ],
      [
        'list_row_description',
        {
          text: 'Wann?',
          list: { button: 'Termine', sections: [{ rows: [{ title: 'A', description: 'd'.repeat(73) }] }] },
        },
      ],
      [
        'list_row_id',
        { text: 'Wann?', list: { button: 'Termine', sections: [{ rows: [{ id: 'i'.repeat(201), title: 'A' }] }] } },
      ],
      [
        'list_row_duplicate',
        {
          text: 'Wann?',
          list: { button: 'Termine', sections: [{ rows: [{ title: 'Montag' }, { title: 'montag' }] }] },
        },
      ],
      [
        'list_section_title',
        {
          text: 'Wann?',
          list: { button: 'Termine', sections: [{ rows: rows(1) }, { title: 'Später', rows: rows(1, 'Spät') }] },
        },
      ],
      [
        'list_section_title',
        { text: 'Wann?', list: { button: 'Termine', sections: [{ title: 's'.repeat(25), rows: rows(1) }] } },
      ],
      ['list_empty_section', { text: 'Wann?', list: { button: 'Termine', sections: [{ title: 'Leer', rows: [] }] } }],
      ['list_text_too_long', { text: 't'.repeat(1025), list: { button: 'Termine', sections: [{ rows: rows(2) }] } }],
      [
        'list_with_buttons',
        { text: 'Wann?', buttons: ['Ja'], list: { button: 'Termine', sections: [{ rows: rows(2) }] } },
      ],
    ];
    for (const [reason, body] of cases) {
      const res = await w.api('POST', url(), body, w.adminToken);
      expect(res.statusCode, reason).toBe(400);
      expect(res.json().error, reason).toMatchObject({ code: 'VALIDATION', details: { field: 'list', reason } });
    }
    await w.drain();
    expect(w.graph.sends.length).toBe(before);
    expect((await thread()).messages.length).toBe(messagesBefore);
  });

  it('sends a list at the limits, shows it in the thread, and shows the chosen row as the answer to it', async () => {
    const list = {
      button: 'Termin wählen'.padEnd(LIST_LIMITS.button, '!'),
      sections: [
        {
          title: 'Vormittag',
          rows: [{ title: 'Dienstag 9 Uhr', description: 'Werkstatt Nord, Halle 2' }, ...rows(4, 'Früh')],
        },
        {
          title: 'N'.repeat(24),
          rows: [{ id: 'thu-14', title: 'D'.repeat(24), description: 'd'.repeat(72) }, ...rows(4, 'Spät')],
        },
      ],
    };
    const res = await w.api('POST', url(), { text: 'Welcher Termin passt Ihnen?', list }, w.adminToken);
    expect(res.statusCode).toBe(202);
    expect(res.json().message.list.sections[0].rows[0]).toEqual({
      id: 'row-1',
      title: 'Dienstag 9 Uhr',
      description: 'Werkstatt Nord, Halle 2',
    });
    expect(res.json().message.list.sections[1].rows[0].id).toBe('thu-14');
    await w.drain();
    const sent = w.graph.sends.at(-1)!;
    expect(sent.body).toMatchObject({
      type: 'interactive',
      interactive: {
        type: 'list',
        body: { text: 'Welcher Termin passt Ihnen?' },
        action: {
          button: list.button,
          sections: [
            {
              title: 'Vormittag',
              rows: expect.arrayContaining([
                { id: 'row-1', title: 'Dienstag 9 Uhr', description: 'Werkstatt Nord, Halle 2' },
              ]),
            },
            { title: 'N'.repeat(24), rows: expect.any(Array) },
          ],
        },
      },
    });
    const shown = (await thread()).messages.find((m) => m.text === 'Welcher Termin passt Ihnen?')!;
    expect(shown.list?.button).toBe(list.button);
    expect(shown.list?.sections.flatMap((s) => s.rows)).toHaveLength(10);

    expect(
      (
        await w.webhook(
          customerMessage(w, {
            id: 'wamid.LIST9',
            type: 'interactive',
            interactive: {
              type: 'list_reply',
              list_reply: { id: 'row-1', title: 'Dienstag 9 Uhr', description: 'Werkstatt Nord, Halle 2' },
            },
            context: { from: '15550783881', id: sent.id },
          }),
        )
      ).statusCode,
    ).toBe(200);
    await w.drain();
    const chosen = (await thread()).messages.find((m) => m.kind === 'button' && m.text === 'Dienstag 9 Uhr')!;
    expect(chosen.replyTo).toMatchObject({ id: shown.id, text: 'Welcher Termin passt Ihnen?' });
  });
});

describe('interactiveList', () => {
  it('refuses a list on a channel without lists, however small', () => {
    expect(() => interactiveList({ button: 'Wählen', sections: [{ rows: [{ title: 'A' }] }] }, 5, false)).toThrow(
      expect.objectContaining({ code: 'VALIDATION', details: { field: 'list', reason: 'list_unsupported' } }),
    );
  });
});
