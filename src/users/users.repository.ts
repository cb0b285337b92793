import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { UserEntity } from './user.entity';

export type NewUser = Pick<UserEntity, 'email' | 'username' | 'fullName'> & {
  passwordHash?: string | null;
  secretHash?: string | null;
};

export type ProfileChanges = Partial<Pick<UserEntity, 'username' | 'fullName' | 'imageUrl'>>;

/** The users table. Returns null for "not found"; unique violations surface as QueryFailedError. */
@Injectable()
export class UsersRepository {
  constructor(@InjectRepository(UserEntity) private readonly users: Repository<UserEntity>) {}

  /** Inserts, inside `manager`'s transaction when given, and reads the row back as clients see it. */
  async insert(user: NewUser, manager?: EntityManager): Promise<UserEntity> {
    const users = this.repository(manager);
    const saved = await users.save(users.create(user));
    return (await users.findOneBy({ id: saved.id })) as UserEntity;
  }

  findById(id: string, manager?: EntityManager): Promise<UserEntity | null> {
    return this.repository(manager).findOneBy({ id });
  }

  findByEmail(email: string, manager?: EntityManager): Promise<UserEntity | null> {
    return this.repository(manager).findOneBy({ email });
  }

  findByEmailWithPasswordHash(email: string): Promise<UserEntity | null> {
    return this.withPasswordHash().where('u.email = :email', { email }).getOne();
  }

  findByUsernameWithPasswordHash(username: string): Promise<UserEntity | null> {
    return this.withPasswordHash()
      .where('lower(u.username) = lower(:username)', { username })
      .getOne();
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

  async setSecretHash(id: string, secretHash: string): Promise<void> {
    await this.users.update({ id }, { secretHash });
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.users.delete({ id });
    return (result.affected ?? 0) > 0;
  }

  private repository(manager?: EntityManager): Repository<UserEntity> {
    return manager ? manager.getRepository(UserEntity) : this.users;
  }

  private withPasswordHash() {
    return this.users.createQueryBuilder('u').addSelect('u.passwordHash');
  }
}
