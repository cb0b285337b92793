import { HttpStatus, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { violatedUniqueConstraint } from '../database/errors';
import { ProblemException } from '../common/problem';
import { UserEntity } from './user.entity';
import { NewUser, ProfileChanges, UsersRepository } from './users.repository';

/** Unique indexes of the users table and the conflict each one means to a client. */
const CONFLICTS: Record<string, [code: string, detail: string]> = {
  users_email_key: ['email_taken', 'An account with this email already exists.'],
  users_username_key: ['username_taken', 'This username is taken.'],
};

/**
 * The people: creating, finding and editing users. The database's unique
 * indexes decide conflicts, so two concurrent sign-ups of one email get one
 * 201 and one 409, never two accounts.
 */
@Injectable()
export class UsersService {
  constructor(private readonly users: UsersRepository) {}

  /** Creates a user, inside `manager`'s transaction when given. */
  async create(user: NewUser, manager?: EntityManager): Promise<UserEntity> {
    try {
      return await this.users.insert(user, manager);
    } catch (error) {
      throw this.conflictOr(error);
    }
  }

  findById(id: string, manager?: EntityManager): Promise<UserEntity | null> {
    return this.users.findById(id, manager);
  }

  findByEmail(email: string, manager?: EntityManager): Promise<UserEntity | null> {
    return this.users.findByEmail(email.toLowerCase(), manager);
  }

  markEmailVerified(id: string, manager?: EntityManager): Promise<void> {
    return this.users.markEmailVerified(id, manager);
  }

  async updateProfile(id: string, changes: ProfileChanges): Promise<UserEntity> {
    const defined = Object.fromEntries(
      Object.entries(changes).filter(([, value]) => value !== undefined),
    ) as ProfileChanges;
    try {
      const user = await this.users.update(id, defined);
      if (!user) {
        throw new ProblemException(HttpStatus.NOT_FOUND, 'not_found', 'No such user.');
      }
      return user;
    } catch (error) {
      throw this.conflictOr(error);
    }
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

  setSecretHash(id: string, secretHash: string): Promise<void> {
    return this.users.setSecretHash(id, secretHash);
  }

  delete(id: string): Promise<boolean> {
    return this.users.delete(id);
  }

  private conflictOr(error: unknown): unknown {
    const constraint = violatedUniqueConstraint(error);
    const conflict = constraint ? CONFLICTS[constraint] : undefined;
    return conflict ? new ProblemException(HttpStatus.CONFLICT, conflict[0], conflict[1]) : error;
  }
}
