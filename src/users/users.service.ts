import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { violatedUniqueConstraint } from '../database/errors';
import type { ErrorCode } from '../common/error-codes';
import { ProblemException } from '../common/problem';
import { UserEntity } from './user.entity';
import {
  AdminChanges,
  NewUser,
  ProfileChanges,
  type UserAlongside,
  UsersRepository,
} from './users.repository';
import { AuditService } from '../audit/audit.service';
import type { ClientInfo } from '../common/decorators/client-info.decorator';
import type { Page } from '../common/dto/pagination.dto';

/** Unique indexes of the users table and the conflict each one means to a client. */
const CONFLICTS: Record<string, [code: ErrorCode, detail: string]> = {
  users_email_key: ['email_taken', 'An account with this email already exists.'],
  users_username_key: ['username_taken', 'This username is taken.'],
};

const notFound = () => new ProblemException('not_found', 'No such user.');

/** Refuses a change after which no active (enabled) administrator would remain. */
function assertAdminRemains(
  user: UserEntity,
  activeAdmins: string[],
  staysActiveAdmin: boolean,
): void {
  if (activeAdmins.includes(user.id) && !staysActiveAdmin && activeAdmins.length <= 1) {
    throw new ProblemException(
      'last_admin',
      'This is the last active administrator: make another one first.',
    );
  }
}

/**
 * The people: creating, finding and editing users. The database's unique
 * indexes decide conflicts, so two concurrent sign-ups of one email get one
 * 201 and one 409, never two accounts.
 */
@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly audit: AuditService,
  ) {}

  /**
   * Creates a user, inside `manager`'s transaction when given, with the rows
   * `alongside` adds in the same statement.
   */
  async create(
    user: NewUser,
    manager?: EntityManager,
    alongside?: UserAlongside,
  ): Promise<UserEntity> {
    try {
      return await this.users.insert(user, manager, alongside);
    } catch (error) {
      throw this.conflictOr(error);
    }
  }

  findById(id: string, manager?: EntityManager): Promise<UserEntity | null> {
    return this.users.findById(id, manager);
  }

  async getById(id: string): Promise<UserEntity> {
    const user = await this.users.findById(id);
    if (!user) {
      throw notFound();
    }
    return user;
  }

  findByEmail(email: string, manager?: EntityManager): Promise<UserEntity | null> {
    return this.users.findByEmail(email.toLowerCase(), manager);
  }

  markEmailVerified(id: string, manager?: EntityManager): Promise<void> {
    return this.users.markEmailVerified(id, manager);
  }

  async updateProfile(
    id: string,
    changes: ProfileChanges,
    client: ClientInfo,
  ): Promise<UserEntity> {
    const defined = Object.fromEntries(
      Object.entries(changes).filter(([, value]) => value !== undefined),
    ) as ProfileChanges;
    let user: UserEntity | null;
    try {
      user = await this.users.update(id, defined);
    } catch (error) {
      throw this.conflictOr(error);
    }
    if (!user) {
      throw notFound();
    }
    if (Object.keys(defined).length > 0) {
      await this.audit.record({
        type: 'user.updated',
        userId: id,
        client,
        detail: { fields: Object.keys(defined) },
      });
    }
    return user;
  }

  /** A page of users, optionally those whose email or username contains `q` (any case). */
  async search(q: string | undefined, page: number, size: number): Promise<Page<UserEntity>> {
    const { items, total } = await this.users.search(q, page, size);
    return { items, page, size, total };
  }

  /**
   * Sets roles or the disabled flag inside the caller's transaction, refusing
   * (409 `last_admin`) a change that would leave no active administrator.
   * Returns the user as it was before.
   */
  async changeAdminFields(
    id: string,
    changes: AdminChanges,
    manager: EntityManager,
  ): Promise<UserEntity> {
    const { user, activeAdmins } = await this.lockForAdminChange(id, manager);
    const roles = changes.roles ?? user.roles;
    const disabled = changes.disabled ?? user.disabled;
    assertAdminRemains(user, activeAdmins, roles.includes('admin') && !disabled);
    await this.users.setAdminFields(id, { roles, disabled }, manager);
    return user;
  }

  /** Deletes a user inside the caller's transaction; never the last active administrator (409). */
  async deleteUser(id: string, manager: EntityManager): Promise<UserEntity> {
    const { user, activeAdmins } = await this.lockForAdminChange(id, manager);
    assertAdminRemains(user, activeAdmins, false);
    await this.users.delete(id, manager);
    return user;
  }

  /**
   * The account a sign-in names, with its password hash: by email when the
   * identifier has an "@" (usernames cannot), otherwise by username.
   */
  findForPasswordSignIn(identifier: string): Promise<UserEntity | null> {
    return identifier.includes('@')
      ? this.users.findByEmailWithPasswordHash(identifier.toLowerCase())
      : this.users.findByUsernameWithPasswordHash(identifier);
  }

  findByIdWithPasswordHash(id: string): Promise<UserEntity | null> {
    return this.users.findByIdWithPasswordHash(id);
  }

  findBySecretHash(secretHash: string): Promise<UserEntity | null> {
    return this.users.findBySecretHash(secretHash);
  }

  setPasswordHash(id: string, passwordHash: string, manager?: EntityManager): Promise<void> {
    return this.users.setPasswordHash(id, passwordHash, manager);
  }

  /** Kept by the auth module in the transaction that adds or removes a second factor. */
  setMfaEnabled(id: string, mfaEnabled: boolean, manager?: EntityManager): Promise<void> {
    return this.users.setMfaEnabled(id, mfaEnabled, manager);
  }

  setSecretHash(id: string, secretHash: string, manager?: EntityManager): Promise<void> {
    return this.users.setSecretHash(id, secretHash, manager);
  }

  /** Locks the user's row for `manager`'s transaction; whether it has a password and a secret key (null: no such user). */
  lockCredentials(
    id: string,
    manager: EntityManager,
  ): Promise<{ password: boolean; secret: boolean } | null> {
    return this.users.lockCredentials(id, manager);
  }

  /** Locks the active admins (see lockActiveAdmins), then reads the user; 404 if there is none. */
  private async lockForAdminChange(
    id: string,
    manager: EntityManager,
  ): Promise<{ user: UserEntity; activeAdmins: string[] }> {
    const activeAdmins = await this.users.lockActiveAdmins(manager);
    const user = await this.users.findById(id, manager);
    if (!user) {
      throw notFound();
    }
    return { user, activeAdmins };
  }

  private conflictOr(error: unknown): unknown {
    const constraint = violatedUniqueConstraint(error);
    const conflict = constraint ? CONFLICTS[constraint] : undefined;
    return conflict ? new ProblemException(conflict[0], conflict[1]) : error;
  }
}
