import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Passkeys (WebAuthn): each account's credentials (public key, signature
 * counter, transports, backed-up flag, a name) and the ceremonies' challenges,
 * kept server-side so every instance shares them, each bound to what it was
 * issued for (a session adding a passkey, a passwordless sign-in, or one
 * sign-in's second step) and spent by its first use. An account no longer
 * needs a password or a secret key: a passkey (or, later, another provider)
 * may be its only way in, which the service guards instead of the schema
 * (the last way in cannot be removed).
 */
export class Passkeys1730000500000 implements MigrationInterface {
  name = 'Passkeys1730000500000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" DROP CONSTRAINT "users_has_credential"`);

    await queryRunner.query(`
      CREATE TABLE "passkeys" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL,
        "credential_id" character varying(1400) NOT NULL,
        "public_key" bytea NOT NULL,
        "counter" bigint NOT NULL DEFAULT 0,
        "transports" text array NOT NULL DEFAULT '{}',
        "device_type" character varying(16) NOT NULL,
        "backed_up" boolean NOT NULL DEFAULT false,
        "aaguid" character varying(36) NOT NULL,
        "name" character varying(64) NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "last_used_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "passkeys_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "passkeys_user_id_fkey" FOREIGN KEY ("user_id")
          REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "passkeys_credential_id_key" ON "passkeys" ("credential_id")`,
    );
    await queryRunner.query(`CREATE INDEX "passkeys_user_id_idx" ON "passkeys" ("user_id")`);

    await queryRunner.query(`
      CREATE TABLE "webauthn_challenges" (
        "challenge" character varying(128) NOT NULL,
        "purpose" character varying(16) NOT NULL,
        "user_id" uuid,
        "session_id" uuid,
        "mfa_challenge_id" uuid,
        "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "webauthn_challenges_pkey" PRIMARY KEY ("challenge"),
        CONSTRAINT "webauthn_challenges_user_id_fkey" FOREIGN KEY ("user_id")
          REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION,
        CONSTRAINT "webauthn_challenges_session_id_fkey" FOREIGN KEY ("session_id")
          REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION,
        CONSTRAINT "webauthn_challenges_mfa_challenge_id_fkey" FOREIGN KEY ("mfa_challenge_id")
          REFERENCES "mfa_challenges"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await queryRunner.query(
      `CREATE INDEX "webauthn_challenges_expires_at_idx" ON "webauthn_challenges" ("expires_at")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "webauthn_challenges"`);
    await queryRunner.query(`DROP TABLE "passkeys"`);
    await queryRunner.query(`
      ALTER TABLE "users" ADD CONSTRAINT "users_has_credential"
        CHECK ("password_hash" IS NOT NULL OR "secret_hash" IS NOT NULL) NOT VALID`);
  }
}
