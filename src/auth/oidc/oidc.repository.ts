import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { returningRows } from '../../database/returning';
import { IdentityEntity, type OidcFlowEntity, type TicketKind } from './oidc.entities';

/** A flow as started: everything but its expiry. */
export type NewFlow = Omit<OidcFlowEntity, 'expiresAt' | 'linkUser'>;

/**
 * Identities, flows and tickets. Flows and tickets are taken by their first
 * use in one statement (DELETE … RETURNING), so a replayed callback or code
 * gets nothing, on any instance.
 */
@Injectable()
export class OidcRepository {
  constructor(@InjectEntityManager() private readonly manager: EntityManager) {}

  /** Stores a flow for `ttlSeconds`; flows expired for a minute go in the same statement. */
  async startFlow(flow: NewFlow, ttlSeconds: number): Promise<void> {
    await this.manager.query(
      `WITH pruned AS (DELETE FROM oidc_flows WHERE expires_at < now() - interval '1 minute')
       INSERT INTO oidc_flows
         (state_hash, browser_hash, provider, nonce, code_verifier, redirect_to, link_user_id, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))`,
      [
        flow.stateHash,
        flow.browserHash,
        flow.provider,
        flow.nonce,
        flow.codeVerifier,
        flow.redirectTo,
        flow.linkUserId,
        ttlSeconds,
      ],
    );
  }

  /** Spends the flow with this state; null when there is none, or it expired. */
  async takeFlow(stateHash: string): Promise<NewFlow | null> {
    const rows = await returningRows<{
      browser_hash: string;
      provider: string;
      nonce: string;
      code_verifier: string;
      redirect_to: string;
      link_user_id: string | null;
      valid: boolean;
    }>(
      this.manager,
      `DELETE FROM oidc_flows WHERE state_hash = $1
       RETURNING browser_hash, provider, nonce, code_verifier, redirect_to, link_user_id,
                 expires_at > now() AS valid`,
      [stateHash],
    );
    const row = rows[0];
    return row?.valid
      ? {
          stateHash,
          browserHash: row.browser_hash,
          provider: row.provider,
          nonce: row.nonce,
          codeVerifier: row.code_verifier,
          redirectTo: row.redirect_to,
          linkUserId: row.link_user_id,
        }
      : null;
  }

  /** Stores a one-time ticket (as its hash) for `ttlSeconds`; expired ones go in the same statement. */
  async issueTicket(
    ticket: { hash: string; kind: TicketKind; userId: string; provider: string },
    ttlSeconds: number,
  ): Promise<void> {
    await this.manager.query(
      `WITH pruned AS (DELETE FROM oidc_tickets WHERE expires_at < now() - interval '1 minute')
       INSERT INTO oidc_tickets (ticket_hash, kind, user_id, provider, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
      [ticket.hash, ticket.kind, ticket.userId, ticket.provider, ttlSeconds],
    );
  }

  /** Spends a ticket of this kind; its account and provider while it was valid. */
  async takeTicket(
    kind: TicketKind,
    hash: string,
  ): Promise<{ userId: string; provider: string } | null> {
    const rows = await returningRows<{ user_id: string; provider: string; valid: boolean }>(
      this.manager,
      `DELETE FROM oidc_tickets WHERE ticket_hash = $1 AND kind = $2
       RETURNING user_id, provider, expires_at > now() AS valid`,
      [hash, kind],
    );
    const row = rows[0];
    return row?.valid ? { userId: row.user_id, provider: row.provider } : null;
  }

  findIdentity(provider: string, subject: string): Promise<IdentityEntity | null> {
    return this.manager.findOneBy(IdentityEntity, { provider, subject });
  }

  listIdentities(userId: string): Promise<IdentityEntity[]> {
    return this.manager.find(IdentityEntity, { where: { userId }, order: { linkedAt: 'ASC' } });
  }

  hasIdentity(userId: string, provider: string): Promise<boolean> {
    return this.manager.existsBy(IdentityEntity, { userId, provider });
  }

  countIdentities(userId: string, manager = this.manager): Promise<number> {
    return manager.countBy(IdentityEntity, { userId });
  }

  /** Links (provider, subject) to the account (`used`: by a sign-in); false when either is linked already. */
  async link(
    identity: Pick<IdentityEntity, 'userId' | 'provider' | 'subject' | 'email'>,
    manager: EntityManager,
    used: boolean,
  ): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO identities (user_id, provider, subject, email, last_used_at)
       VALUES ($1, $2, $3, $4, CASE WHEN $5 THEN now() END)
       ON CONFLICT DO NOTHING RETURNING id`,
      [identity.userId, identity.provider, identity.subject, identity.email, used],
    );
    return rows.length > 0;
  }

  /** A sign-in with this identity: its email follows the provider's, and it was used now. */
  async touch(id: string, email: string | null): Promise<void> {
    await this.manager.update(IdentityEntity, { id }, { email, lastUsedAt: () => 'now()' });
  }

  /** The account's identity at this provider, locked until `manager`'s transaction ends. */
  lockIdentity(
    userId: string,
    provider: string,
    manager: EntityManager,
  ): Promise<IdentityEntity | null> {
    return manager
      .createQueryBuilder(IdentityEntity, 'i')
      .setLock('pessimistic_write')
      .where('i.user_id = :userId AND i.provider = :provider', { userId, provider })
      .getOne();
  }

  async remove(id: string, manager: EntityManager): Promise<void> {
    await manager.delete(IdentityEntity, { id });
  }
}
