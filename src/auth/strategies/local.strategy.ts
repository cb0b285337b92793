import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-local';
import { UserEntity } from '../../users/user.entity';
import { AuthService } from '../auth.service';

/** Password sign-in; the body was validated into a LoginDto by the guard, whose `login` is the identifier. */
@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy, 'local') {
  constructor(private readonly auth: AuthService) {
    super({ usernameField: 'login', passwordField: 'password', session: false });
  }

  validate(login: string, password: string): Promise<UserEntity> {
    return this.auth.validatePassword(login, password);
  }
}
