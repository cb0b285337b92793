import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-local';
import { clientInfoOf } from '../../common/decorators/client-info.decorator';
import { UserEntity } from '../../users/user.entity';
import { SignInService } from './sign-in.service';

/** Password sign-in; the body was validated into a LoginDto by the guard, whose `login` is the identifier. */
@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy, 'local') {
  constructor(private readonly signIn: SignInService) {
    super({
      usernameField: 'login',
      passwordField: 'password',
      session: false,
      passReqToCallback: true,
    });
  }

  validate(request: FastifyRequest, login: string, password: string): Promise<UserEntity> {
    return this.signIn.validatePassword(login, password, clientInfoOf(request));
  }
}
