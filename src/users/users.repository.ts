import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
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

  async insert(user: NewUser): Promise<UserEntity> {
    const saved = await this.users.save(this.users.create(user));
    return (await this.findById(saved.id)) as UserEntity;
  }

  findById(id: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ id });
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

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.users.update({ id }, { passwordHash });
  }

  async setSecretHash(id: string, secretHash: string): Promise<void> {
    await this.users.update({ id }, { secretHash });
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.users.delete({ id });
    return (result.affected ?? 0) > 0;
  }

  private withPasswordHash() {
    return this.users.createQueryBuilder('u').addSelect('u.passwordHash');
  }
}
