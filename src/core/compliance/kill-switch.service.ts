import { AppError } from '../../shared/app-error.ts';
import type { Clock } from '../../shared/clock.ts';
import type { CompliancePort } from '../ports/compliance.port.ts';
import type { AuditLog } from '../privacy/audit/audit-log.ts';
import { checkReason } from './subject-rights.service.ts';

export interface KillSwitchState {
  channelId: string;
  enabled: boolean;
  /** False when the channel already was in the requested state (nothing changed, still audited). */
  changed: boolean;
  auditSeq: number;
}

/**
 * The kill switch of a channel (channels.enabled). While a channel is off, its webhook stores nothing and answers
 * each customer with the organisation's alternative contact (InboxService.answerPaused), staff replies are refused
 * and queued outbound messages are not sent (outbound-send marks them failed with CHANNEL_DISABLED). Switching is
 * audited ('channel.disabled' / 'channel.enabled') with the stated reason, and reversible.
 */
export class ChannelKillSwitch {
  constructor(
    private readonly port: Pick<CompliancePort, 'findChannel' | 'setChannelEnabled'>,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async set(channelId: string, enabled: boolean, who: { actor: string }, reason: unknown): Promise<KillSwitchState> {
    const why = checkReason(reason);
    const channel = await this.port.findChannel(channelId);
    if (!channel) throw new AppError('NOT_FOUND', `no channel with id ${channelId}`, { field: 'channel' });
    const changed = channel.enabled !== enabled;
    if (changed) await this.port.setChannelEnabled(channel.id, enabled, this.clock.now().getTime());
    const entry = await this.audit.append({
      actor: who.actor,
      action: enabled ? 'channel.enabled' : 'channel.disabled',
      targetType: 'channel',
      targetId: channel.id,
      details: { kind: channel.kind, reason: why, changed },
    });
    return { channelId: channel.id, enabled, changed, auditSeq: entry.seq };
  }
}
