import type { ConversationFacts, NotificationEventKind } from '../ports/notification.port.ts';

/**
 * The conversation's label in the reader's language: the default prefixes ("Anfrage" / "Request") follow the reader,
 * a prefix an admin chose stays as it is.
 */
function label(facts: ConversationFacts, language: string): string {
  const defaults = ['Anfrage', 'Request'];
  const prefix = defaults.includes(facts.labelPrefix) ? (language === 'de' ? 'Anfrage' : 'Request') : facts.labelPrefix;
  return `${prefix} ${facts.labelSeq}`;
}

/**
 * The one sentence every notification carries, in the recipient's language. Content-free by construction: it is made
 * of the event kind, the conversation's pseudonymous label and the inbox id, never of message text, a name or a number.
 */
export function notificationText(kind: NotificationEventKind, facts: ConversationFacts, language: string): string {
  const where = `${label(facts, language)} (${facts.inboxId})`;
  const de = language === 'de';
  switch (kind) {
    case 'conversation.new':
      return de ? `Neue Anfrage: ${where}` : `New conversation: ${where}`;
    case 'message.new':
      return de ? `Neue Nachricht in ${where}` : `New message in ${where}`;
    case 'conversation.assigned':
      return de ? `${where} wurde Ihnen zugewiesen` : `${where} was assigned to you`;
    case 'note.mention':
      return de ? `Sie wurden in einer Notiz zu ${where} erwähnt` : `You were mentioned in a note on ${where}`;
  }
}
