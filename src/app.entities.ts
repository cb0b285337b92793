import { AdminAndAudit1730000200000 } from '../migrations/1730000200000-AdminAndAudit';
import { AuditForgetsTypedIdentifiers1730000350000 } from '../migrations/1730000350000-AuditForgetsTypedIdentifiers';
import { InitialSchema1730000000000 } from '../migrations/1730000000000-InitialSchema';
import { MailAndAccountTokens1730000100000 } from '../migrations/1730000100000-MailAndAccountTokens';
import { MultiFactor1730000400000 } from '../migrations/1730000400000-MultiFactor';
import { Passkeys1730000500000 } from '../migrations/1730000500000-Passkeys';
import { Identities1730000600000 } from '../migrations/1730000600000-Identities';
import { NewDeviceAlerts1730000700000 } from '../migrations/1730000700000-NewDeviceAlerts';
import { AuditEventEntity } from './audit/audit-event.entity';
import {
  MfaChallengeEntity,
  RecoveryCodeEntity,
  TotpAuthenticatorEntity,
} from './auth/mfa/mfa.entities';
import { PasskeyEntity, WebAuthnChallengeEntity } from './auth/passkeys/passkey.entities';
import { IdentityEntity, OidcFlowEntity, OidcTicketEntity } from './auth/oidc/oidc.entities';
import { KnownDeviceEntity } from './auth/devices/device.entities';
import {
  EmailVerificationEntity,
  PasswordResetEntity,
  SecureAccountTokenEntity,
} from './auth/recovery/account-token.entities';
import { RefreshTokenEntity } from './auth/sessions/refresh-token.entity';
import { SessionEntity } from './auth/sessions/session.entity';
import type { DatabaseSchema } from './database/database.options';
import { OutboxMailEntity } from './mail/outbox-mail.entity';
import { UserEntity } from './users/user.entity';

/**
 * Every table's entity and every migration, in order: the one place that
 * knows all the features' tables, so that database/ knows none of them.
 */
export const APP_SCHEMA: DatabaseSchema = {
  entities: [
    UserEntity,
    SessionEntity,
    RefreshTokenEntity,
    EmailVerificationEntity,
    PasswordResetEntity,
    OutboxMailEntity,
    AuditEventEntity,
    TotpAuthenticatorEntity,
    RecoveryCodeEntity,
    MfaChallengeEntity,
    PasskeyEntity,
    WebAuthnChallengeEntity,
    IdentityEntity,
    OidcFlowEntity,
    OidcTicketEntity,
    KnownDeviceEntity,
    SecureAccountTokenEntity,
  ],
  migrations: [
    InitialSchema1730000000000,
    MailAndAccountTokens1730000100000,
    AdminAndAudit1730000200000,
    AuditForgetsTypedIdentifiers1730000350000,
    MultiFactor1730000400000,
    Passkeys1730000500000,
    Identities1730000600000,
    NewDeviceAlerts1730000700000,
  ],
};
