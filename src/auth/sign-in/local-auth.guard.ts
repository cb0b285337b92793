import { ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { assertSafeInput, VALIDATION_OPTIONS, validationProblem } from '../../common/validation';
import { LoginDto } from './dto/login.dto';

/**
 * Password sign-in. Guards run before pipes, so the body is validated here,
 * with the global pipe's rules, before the strategy sees it: a malformed body
 * gets the contract's 400, not passport's 401.
 */
@Injectable()
export class LocalAuthGuard extends AuthGuard('local') {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    assertSafeInput(request.body);
    const dto = plainToInstance(LoginDto, request.body ?? {});
    const errors = await validate(dto, VALIDATION_OPTIONS);
    if (errors.length > 0) {
      throw validationProblem(errors);
    }
    request.body = dto;
    return (await super.canActivate(context)) as boolean;
  }
}
