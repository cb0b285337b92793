import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { MfaService } from '../auth/mfa/mfa.service';
import { SessionsService } from '../auth/sessions/sessions.service';
import { PasswordResetService } from '../auth/recovery/password-reset.service';
import { PasswordsService } from '../auth/passwords/passwords.service';
import type { AuthPrincipal } from '../common/auth-principal';
import type { ClientInfo } from '../common/decorators/client-info.decorator';
import type { Page } from '../common/dto/pagination.dto';
import { ProblemException } from '../common/problem';
import { Role, UserEntity } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import type { AdminUpdateUserDto } from './dto/admin-user.dto';

/** Roles in their canonical form: `user` always, `admin` when asked. */
function canonicalRoles(roles: Role[]): Role[] {
  return roles.includes('admin') ? ['user', 'admin'] : ['user'];
}

const sameRoles = (a: Role[], b: Role[]) => canonicalRoles(a).join() === canonicalRoles(b).join();

/** Who performed an administrative change: an admin's request, or the operator's command line. */
export interface Actor {
  principal?: AuthPrincipal;
  client?: ClientInfo;
  via?: 'cli' | 'bootstrap';
}

/** Operators' work on other people's accounts: find, inspect, change roles, disable, delete. */
@Injectable()
export class AdminService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly passwords: PasswordsService,
    private readonly audit: AuditService,
    private readonly passwordResets: PasswordResetService,
    private readonly mfa: MfaService,
  ) {}

  listUsers(q: string | undefined, page: number, size: number): Promise<Page<UserEntity>> {
    return this.users.search(q, page, size);
  }

  getUser(id: string): Promise<UserEntity> {
    return this.users.getById(id);
  }

  /**
   * Changes roles and the disabled flag in one transaction: disabling ends
   * every session at once; the last active administrator cannot lose the role
   * or be disabled (409). Each change is an audit event.
   */
  async updateUser(id: string, changes: AdminUpdateUserDto, actor: Actor): Promise<UserEntity> {
    await this.dataSource.transaction(async (manager) => {
      const roles = changes.roles ? canonicalRoles(changes.roles) : undefined;
      const before = await this.users.changeAdminFields(
        id,
        { roles, disabled: changes.disabled },
        manager,
      );
      const record = (type: 'role.changed' | 'user.disabled' | 'user.updated', detail: object) =>
        this.audit.record(
          {
            type,
            userId: id,
            actorId: actor.principal?.user.id ?? null,
            client: actor.client,
            detail: { ...detail, ...(actor.via ? { via: actor.via } : {}) },
          },
          manager,
        );
      if (roles && !sameRoles(roles, before.roles)) {
        await record('role.changed', { from: before.roles, to: roles });
      }
      if (changes.disabled === true && !before.disabled) {
        const sessions = await this.sessions.endAll(id, 'account_disabled', manager);
        await this.passwordResets.voidOutstanding(before, manager);
        await record('user.disabled', { sessionsRevoked: sessions });
      }
      if (changes.disabled === false && before.disabled) {
        await record('user.updated', { fields: ['disabled'], disabled: false });
      }
    });
    return this.getUser(id);
  }

  /** The lost-phone case: every second factor of the user goes, and every session. */
  resetMfa(id: string, actor: Actor): Promise<void> {
    return this.mfa.resetByAdmin(id, actor.principal?.user.id ?? null, actor.client ?? null);
  }

  async deleteUser(id: string, actor: Actor): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const user = await this.users.deleteUser(id, manager);
      await this.audit.record(
        {
          type: 'user.deleted',
          userId: id,
          actorId: actor.principal?.user.id ?? null,
          client: actor.client,
          detail: { email: user.email, ...(actor.via ? { via: actor.via } : {}) },
        },
        manager,
      );
    });
  }

  /**
   * Makes sure an administrator with this email exists: creates the account
   * (password policy applies; the address counts as verified) or, if it
   * exists, grants it the role, leaving its password as it is. Safe to run
   * from several instances at once: the unique email index lets one create it.
   */
  async ensureAdmin(email: string, password: string, via: Actor['via']): Promise<UserEntity> {
    const address = email.toLowerCase();
    if (!(await this.users.findByEmail(address))) {
      this.passwords.assertStrong(password, { email: address });
      const passwordHash = await this.passwords.hash(password);
      try {
        const created = await this.users.create({
          email: address,
          username: null,
          fullName: null,
          passwordHash,
          roles: ['user', 'admin'],
          emailVerified: true,
        });
        await this.audit.record({
          type: 'user.registered',
          userId: created.id,
          detail: { via, role: 'admin' },
        });
        return created;
      } catch (error) {
        // Another instance created it first: fall through and make sure of the role.
        if (!(error instanceof ProblemException && error.code === 'email_taken')) {
          throw error;
        }
      }
    }
    return this.setAdminRole(address, true, via);
  }

  /** Grants or removes the admin role of the account with this email (never the last admin's). */
  async setAdminRole(email: string, admin: boolean, via: Actor['via']): Promise<UserEntity> {
    const user = await this.users.findByEmail(email.toLowerCase());
    if (!user) {
      throw new ProblemException('not_found', `No account has the email ${email}.`);
    }
    return this.updateUser(user.id, { roles: admin ? ['user', 'admin'] : ['user'] }, { via });
  }
}
