import { MigrationInterface, QueryRunner } from 'typeorm';

/** The mail outbox, email verification codes and password reset tokens (hashes only). */
export class MailAndAccountTokens1730000100000 implements MigrationInterface {
  name = 'MailAndAccountTokens1730000100000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "outbox" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "kind" character varying(40) NOT NULL,
        "recipient" character varying(254) NOT NULL,
        "user_id" uuid,
        "payload" jsonb,
        "requester_ip" character varying(64),
        "status" character varying(16) NOT NULL DEFAULT 'pending',
        "attempts" integer NOT NULL DEFAULT 0,
        "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "locked_until" TIMESTAMP WITH TIME ZONE,
        "last_error" character varying(200),
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "finished_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "outbox_pkey" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(
      `CREATE INDEX "outbox_due_idx" ON "outbox" ("next_attempt_at") WHERE status = 'pending'`,
    );
    await queryRunner.query(
      `CREATE INDEX "outbox_recipient_idx" ON "outbox" ("recipient", "kind", "created_at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "outbox_requester_idx" ON "outbox" ("requester_ip", "created_at")`,
    );

    await queryRunner.query(`
      CREATE TABLE "email_verifications" (
        "user_id" uuid NOT NULL,
        "code_hash" character varying(64) NOT NULL,
        "attempts" integer NOT NULL DEFAULT 0,
        "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "email_verifications_pkey" PRIMARY KEY ("user_id"),
        CONSTRAINT "email_verifications_user_id_fkey" FOREIGN KEY ("user_id")
          REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);

    await queryRunner.query(`
      CREATE TABLE "password_resets" (
        "user_id" uuid NOT NULL,
        "token_hash" character varying(64) NOT NULL,
        "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "password_resets_pkey" PRIMARY KEY ("user_id"),
        CONSTRAINT "password_resets_user_id_fkey" FOREIGN KEY ("user_id")
          REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "password_resets_token_hash_key" ON "password_resets" ("token_hash")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "password_resets"`);
    await queryRunner.query(`DROP TABLE "email_verifications"`);
    await queryRunner.query(`DROP TABLE "outbox"`);
  }
}
