/**
 * Compile-time checks of the inbox against the server's contract; `tsc -p web/tsconfig.json` fails when one breaks.
 * The types in api.ts come from the contract, so a field the server drops or renames already fails where a screen
 * reads it. These pin what a screen would otherwise accept silently: the values it renders one by one (a new message
 * direction or login step would fall through to no text) and the fields it takes for granted (a field turned
 * optional would read as "not edited"). Nothing here runs or reaches the bundle.
 */
import type {
  Breach,
  call as callFunction,
  ChannelCheck,
  ConversationDetail,
  ConversationSummary,
  Endpoints,
  InboxPrivacy,
  Lang,
  Message,
  QuickReply,
  Role,
  SessionInfo,
  SessionUser,
  StaffMember,
  Weekday,
} from './api.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

/** Exported so that the checks count as used; never read. */
export type ContractChecks = [
  // Values a screen renders case by case.
  Expect<Equal<Role, 'admin' | 'agent' | 'dpo'>>,
  Expect<Equal<Lang, 'de' | 'en'>>,
  Expect<Equal<SessionInfo['step'], 'done' | 'totp' | 'enrol'>>,
  Expect<Equal<Message['direction'], 'in' | 'out' | 'note' | 'system'>>,
  Expect<Equal<ConversationSummary['state'], 'open' | 'closed'>>,
  Expect<Equal<InboxPrivacy['media'], 'strip' | 'reject' | 'allow'>>,
  Expect<Equal<Weekday, 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun'>>,
  Expect<
    Equal<ChannelCheck['reason'], 'connected' | 'refused' | 'timeout' | 'unreachable' | 'unsupported' | undefined>
  >,
  Expect<Equal<Breach['risk'], 'none' | 'risk' | 'high'>>,
  // Fields the thread and the lists take for granted.
  Expect<Equal<Message['edited'], boolean>>,
  Expect<Equal<Message['deleted'], boolean>>,
  Expect<Equal<ConversationSummary['canSendFiles'], boolean>>,
  Expect<Equal<SessionUser['totpEnabled'], boolean>>,
  Expect<Equal<StaffMember['invitationPending'], boolean>>,
  // The operations the screens call answer with the shapes they are typed with.
  Expect<Equal<Endpoints['GET /conversations/:id']['response'], ConversationDetail>>,
  Expect<Equal<Endpoints['GET /conversations']['response'], { items: ConversationSummary[] }>>,
  Expect<Equal<Endpoints['POST /conversations/:id/messages']['response'], { message: Message }>>,
  Expect<Equal<Endpoints['GET /auth/session']['response'], SessionInfo>>,
  Expect<Equal<Endpoints['GET /quick-replies']['response'], { items: QuickReply[] }>>,
  Expect<Equal<Endpoints['GET /users']['response'], { items: StaffMember[] }>>,
];

declare const call: typeof callFunction;

/** Calls by operation key are typed by the contract: params, body and answer. Type-checked, never called. */
export async function _typedCalls(): Promise<void> {
  const detail: ConversationDetail = await call('GET /conversations/:id', { params: { id: 'c1' } });
  const sent: Message = (
    await call('POST /conversations/:id/messages', { params: { id: detail.conversation.id }, body: { text: 'Hallo' } })
  ).message;
  // @ts-expect-error a reply is a text or a template, nothing else
  await call('POST /conversations/:id/messages', { params: { id: sent.id }, body: { html: '<b>' } });
  // @ts-expect-error the path parameter is required
  await call('PATCH /users/:id', { body: { disabled: true } });
  const users: StaffMember[] = (await call('GET /users')).items;
  await call('GET /conversations', { query: { view: 'mine' } });
  // @ts-expect-error no such view
  await call('GET /conversations', { query: { view: 'everything' } });
  void users;
}
