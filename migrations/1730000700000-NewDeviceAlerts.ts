import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * New-device sign-in alerts: each account's devices of the last 90 days, as
 * keyed hashes of (browser family, operating system, network) only, and the
 * "this wasn't me" tokens of the alert mails (SHA-256 only, 7 days).
 */
export class NewDeviceAlerts1730000700000 implements MigrationInterface {
  name = 'NewDeviceAlerts1730000700000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "known_devices" (
        "user_id" uuid NOT NULL,
        "device_hash" character varying(64) NOT NULL,
        "last_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "known_devices_pkey" PRIMARY KEY ("user_id", "device_hash"),
        CONSTRAINT "known_devices_user_id_fkey" FOREIGN KEY ("user_id")
          REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await queryRunner.query(
      `CREATE INDEX "known_devices_last_seen_at_idx" ON "known_devices" ("last_seen_at")`,
    );
    await queryRunner.query(`
      CREATE TABLE "secure_account_tokens" (
        "token_hash" character varying(64) NOT NULL,
        "user_id" uuid NOT NULL,
        "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "secure_account_tokens_pkey" PRIMARY KEY ("token_hash"),
        CONSTRAINT "secure_account_tokens_user_id_fkey" FOREIGN KEY ("user_id")
          REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await queryRunner.query(
      `CREATE INDEX "secure_account_tokens_user_id_idx" ON "secure_account_tokens" ("user_id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "secure_account_tokens_expires_at_idx" ON "secure_account_tokens" ("expires_at")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "secure_account_tokens"`);
    await queryRunner.query(`DROP TABLE "known_devices"`);
  }
}
