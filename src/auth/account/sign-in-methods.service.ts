import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ProblemException } from '../../common/problem';
import { UsersService } from '../../users/users.service';

/** Counts one kind of way in (passkeys, linked providers) of an account. */
export type WayInCounter = (userId: string, manager: EntityManager) => Promise<number>;

/**
 * The ways into an account: its password, its secret key, and whatever the
 * rooms above register (passkeys, linked providers). Nothing that is the
 * last of them may be removed: the owner would be locked out.
 */
@Injectable()
export class SignInMethodsService {
  private readonly counters = new Map<string, WayInCounter>();

  constructor(private readonly users: UsersService) {}

  /** A kind of way in, counted per account (registered at start-up). */
  register(kind: string, counter: WayInCounter): void {
    this.counters.set(kind, counter);
  }

  /**
   * Locks the account's row for `manager`'s transaction (so two removals
   * take turns), then refuses with 409 `last_sign_in_method` when taking
   * away `count` ways of `kind` would leave none.
   */
  async assertOneRemains(
    userId: string,
    removing: { kind: string; count: number },
    manager: EntityManager,
  ): Promise<void> {
    const credentials = await this.users.lockCredentials(userId, manager);
    if (!credentials) {
      throw new ProblemException('not_found', 'No such user.');
    }
    if (credentials.password || credentials.secret) {
      return;
    }
    let left = 0;
    for (const [kind, count] of this.counters) {
      left += (await count(userId, manager)) - (kind === removing.kind ? removing.count : 0);
    }
    if (left <= 0) {
      throw new ProblemException(
        'last_sign_in_method',
        'This is the last way to sign in to the account: add another one (a password through "forgot password", a passkey or another provider) before removing it.',
      );
    }
  }
}
