import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { HotStatements } from '../database/hot-statements';
import { furtherItems, type StatementItems } from '../database/statement-params';
import { Role, UserEntity } from './user.entity';
import { USER_COLUMNS, userFromRow, type UserRow } from './user-row';

export type NewUser = Pick<UserEntity, 'email' | 'username' | 'fullName'> & {
  passwordHash?: string | null;
  secretHash?: string | null;
  roles?: Role[];
  emailVerified?: boolean;
};

/** Rows written by the same statement as a new user, read from `u` (its id is `u.id`). */
export type UserAlongside = StatementItems;

export type AdminChanges = Partial<Pick<UserEntity, 'roles' | 'disabled'>>;

/** A search term as a LIKE pattern matching it anywhere, its wildcards escaped. */
function containsPattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, '\\$&')}%`;
}

export type ProfileChanges = Partial<Pick<UserEntity, 'username' | 'fullName' | 'imageUrl'>>;

/** The password sign-in's lookup: the user and the password hash, by email or by username. */
const WITH_PASSWORD_HASH = `SELECT ${USER_COLUMNS}, u.password_hash FROM users u WHERE`;
const BY_EMAIL_WITH_PASSWORD_HASH = `${WITH_PASSWORD_HASH} u.email = $1`;
const BY_USERNAME_WITH_PASSWORD_HASH = `${WITH_PASSWORD_HASH} lower(u.username) = lower($1)`;

/**
 * The users table. Returns null for "not found"; unique violations surface as
 * errors that violatedUniqueConstraint names.
 */
@Injectable()
export class UsersRepository {
  /** Registration's and sign-in's statements (see HotStatements). */
  private readonly hot: HotStatements;

  constructor(@InjectRepository(UserEntity) private readonly users: Repository<UserEntity>) {
    this.hot = new HotStatements(users.manager);
  }

  /**
   * Inserts, inside `manager`'s transaction when given, and returns the row as
   * clients see it: one statement. `alongside` adds rows that stand or fall
   * with the user's in that same statement (see UserAlongside).
   */
  async insert(
    user: NewUser,
    manager?: EntityManager,
    alongside?: UserAlongside,
  ): Promise<UserEntity> {
    const further = furtherItems(alongside, 8);
    const statements = manager ? new HotStatements(manager) : this.hot;
    const [row] = await statements.query<UserRow>(
      `WITH u AS (
         INSERT INTO users (email, username, full_name, password_hash, secret_hash,
                            roles, email_verified)
         VALUES ($1, $2, $3, $4, $5, coalesce($6::text[], '{user}'), coalesce($7, false))
         RETURNING *
       )${further.sql}
       SELECT ${USER_COLUMNS} FROM u`,
      [
        user.email,
        user.username,
        user.fullName,
        user.passwordHash ?? null,
        user.secretHash ?? null,
        user.roles ?? null,
        user.emailVerified ?? null,
        ...further.values,
      ],
    );
    return userFromRow(row);
  }

  findById(id: string, manager?: EntityManager): Promise<UserEntity | null> {
    return this.repository(manager).findOneBy({ id });
  }

  findByEmail(email: string, manager?: EntityManager): Promise<UserEntity | null> {
    return this.repository(manager).findOneBy({ email });
  }

  findByEmailWithPasswordHash(email: string): Promise<UserEntity | null> {
    return this.withPasswordHashBy(BY_EMAIL_WITH_PASSWORD_HASH, email);
  }

  findByUsernameWithPasswordHash(username: string): Promise<UserEntity | null> {
    return this.withPasswordHashBy(BY_USERNAME_WITH_PASSWORD_HASH, username);
  }

  private async withPasswordHashBy(text: string, value: string): Promise<UserEntity | null> {
    const [row] = await this.hot.query<UserRow & { password_hash: string | null }>(text, [value]);
    if (!row) {
      return null;
    }
    const user = userFromRow(row);
    user.passwordHash = row.password_hash;
    return user;
  }

  findByIdWithPasswordHash(id: string): Promise<UserEntity | null> {
    return this.withPasswordHash().where('u.id = :id', { id }).getOne();
  }

  findBySecretHash(secretHash: string): Promise<UserEntity | null> {
    return this.users
      .createQueryBuilder('u')
      .where('u.secret_hash = :secretHash', { secretHash })
      .getOne();
  }

  async update(id: string, changes: ProfileChanges): Promise<UserEntity | null> {
    if (Object.keys(changes).length > 0) {
      await this.users.update({ id }, changes);
    }
    return this.findById(id);
  }

  async setPasswordHash(id: string, passwordHash: string, manager?: EntityManager): Promise<void> {
    await this.repository(manager).update({ id }, { passwordHash });
  }

  async markEmailVerified(id: string, manager?: EntityManager): Promise<void> {
    await this.repository(manager).update({ id }, { emailVerified: true });
  }

  async setMfaEnabled(id: string, mfaEnabled: boolean, manager?: EntityManager): Promise<void> {
    await this.repository(manager).update({ id }, { mfaEnabled });
  }

  async setSecretHash(id: string, secretHash: string, manager?: EntityManager): Promise<void> {
    await this.repository(manager).update({ id }, { secretHash });
  }

  /**
   * Locks the user's row until `manager`'s transaction ends, and tells
   * whether the account has a password and a secret key: changes to its
   * ways in (and to its second factors) take their turn behind this lock.
   */
  async lockCredentials(
    id: string,
    manager: EntityManager,
  ): Promise<{ password: boolean; secret: boolean } | null> {
    const rows: Array<{ password: boolean; secret: boolean }> = await manager.query(
      `SELECT password_hash IS NOT NULL AS password, secret_hash IS NOT NULL AS secret
         FROM users WHERE id = $1 FOR UPDATE`,
      [id],
    );
    return rows[0] ?? null;
  }

  /**
   * A page of users in a stable order (oldest first), optionally those whose
   * email or username contains `q` regardless of case: the trigram indexes
   * serve these ILIKE '%q%' matches.
   */
  async search(
    q: string | undefined,
    page: number,
    size: number,
  ): Promise<{ items: UserEntity[]; total: number }> {
    const query = this.users.createQueryBuilder('u');
    if (q) {
      query.where('(u.email ILIKE :pattern OR lower(u.username) LIKE lower(:pattern))', {
        pattern: containsPattern(q),
      });
    }
    const [items, total] = await query
      .orderBy('u.created_at', 'ASC')
      .addOrderBy('u.id', 'ASC')
      .skip((page - 1) * size)
      .take(size)
      .getManyAndCount();
    return { items, total };
  }

  /**
   * Locks the rows of every active (not disabled) administrator until the
   * transaction ends and returns their ids: changes that could remove the
   * last one queue here, so two admins demoting each other cannot both win.
   */
  async lockActiveAdmins(manager: EntityManager): Promise<string[]> {
    const rows = await manager.query<Array<{ id: string }>>(
      `SELECT id FROM users WHERE 'admin' = ANY(roles) AND NOT disabled ORDER BY id FOR UPDATE`,
    );
    return rows.map((row) => row.id);
  }

  async setAdminFields(id: string, changes: AdminChanges, manager: EntityManager): Promise<void> {
    await manager.getRepository(UserEntity).update({ id }, changes);
  }

  async delete(id: string, manager?: EntityManager): Promise<boolean> {
    const result = await this.repository(manager).delete({ id });
    return (result.affected ?? 0) > 0;
  }

  private repository(manager?: EntityManager): Repository<UserEntity> {
    return manager ? manager.getRepository(UserEntity) : this.users;
  }

  private withPasswordHash() {
    return this.users.createQueryBuilder('u').addSelect('u.passwordHash');
  }
}
