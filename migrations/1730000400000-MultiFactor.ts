import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two-step sign-in: TOTP authenticators (secrets sealed with AES-256-GCM),
 * recovery codes (keyed hashes only), the pending second steps of sign-ins
 * (mfaToken hashes), how each session was signed in (auth_time, amr, aal),
 * and the user's `mfa_enabled` flag, kept with the factors so that the
 * session check reads it with the user and costs nothing more.
 */
export class MultiFactor1730000400000 implements MigrationInterface {
  name = 'MultiFactor1730000400000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "users" ADD COLUMN "mfa_enabled" boolean NOT NULL DEFAULT false`,
    );

    await queryRunner.query(`
      ALTER TABLE "sessions"
        ADD COLUMN "auth_time" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        ADD COLUMN "amr" text array NOT NULL DEFAULT '{pwd}',
        ADD COLUMN "aal" character varying(8) NOT NULL DEFAULT 'aal1'`);
    await queryRunner.query(`UPDATE "sessions" SET "auth_time" = "created_at"`);

    await queryRunner.query(`
      CREATE TABLE "totp_authenticators" (
        "user_id" uuid NOT NULL,
        "secret_sealed" text NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "confirmed_at" TIMESTAMP WITH TIME ZONE,
        "last_used_at" TIMESTAMP WITH TIME ZONE,
        "last_used_step" bigint,
        CONSTRAINT "totp_authenticators_pkey" PRIMARY KEY ("user_id"),
        CONSTRAINT "totp_authenticators_user_id_fkey" FOREIGN KEY ("user_id")
          REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);

    await queryRunner.query(`
      CREATE TABLE "recovery_codes" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL,
        "code_hash" character varying(64) NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "used_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "recovery_codes_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "recovery_codes_user_id_fkey" FOREIGN KEY ("user_id")
          REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "recovery_codes_user_code_key" ON "recovery_codes" ("user_id", "code_hash")`,
    );

    await queryRunner.query(`
      CREATE TABLE "mfa_challenges" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "token_hash" character varying(64) NOT NULL,
        "user_id" uuid NOT NULL,
        "method" character varying(64) NOT NULL,
        "amr" text array NOT NULL,
        "failures" integer NOT NULL DEFAULT 0,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "spent_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "mfa_challenges_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "mfa_challenges_user_id_fkey" FOREIGN KEY ("user_id")
          REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "mfa_challenges_token_hash_key" ON "mfa_challenges" ("token_hash")`,
    );
    await queryRunner.query(
      `CREATE INDEX "mfa_challenges_user_id_idx" ON "mfa_challenges" ("user_id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "mfa_challenges_expires_at_idx" ON "mfa_challenges" ("expires_at")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "mfa_challenges"`);
    await queryRunner.query(`DROP TABLE "recovery_codes"`);
    await queryRunner.query(`DROP TABLE "totp_authenticators"`);
    await queryRunner.query(
      `ALTER TABLE "sessions" DROP COLUMN "aal", DROP COLUMN "amr", DROP COLUMN "auth_time"`,
    );
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "mfa_enabled"`);
  }
}
