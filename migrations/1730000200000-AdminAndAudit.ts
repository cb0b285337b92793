import { MigrationInterface, QueryRunner } from 'typeorm';

/** Trigram indexes for the admin user search, and the audit trail. */
export class AdminAndAudit1730000200000 implements MigrationInterface {
  name = 'AdminAndAudit1730000200000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Substring search (ILIKE '%q%') over email and username without a full scan.
    await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await queryRunner.query(
      `CREATE INDEX "users_email_trgm_idx" ON "users" USING gin ("email" gin_trgm_ops)`,
    );
    await queryRunner.query(
      `CREATE INDEX "users_username_trgm_idx" ON "users" USING gin (lower("username") gin_trgm_ops)`,
    );
    // The admin list's stable order.
    await queryRunner.query(`CREATE INDEX "users_created_at_idx" ON "users" ("created_at", "id")`);

    await queryRunner.query(`
      CREATE TABLE "audit_events" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "type" character varying(40) NOT NULL,
        "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "user_id" uuid,
        "actor_id" uuid,
        "ip" character varying(64),
        "user_agent" character varying(512),
        "outcome" character varying(16) NOT NULL,
        "detail" jsonb,
        CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(
      `CREATE INDEX "audit_events_user_id_at_idx" ON "audit_events" ("user_id", "at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "audit_events_type_at_idx" ON "audit_events" ("type", "at")`,
    );
    await queryRunner.query(`CREATE INDEX "audit_events_at_idx" ON "audit_events" ("at")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "audit_events"`);
    await queryRunner.query(`DROP INDEX "users_created_at_idx"`);
    await queryRunner.query(`DROP INDEX "users_username_trgm_idx"`);
    await queryRunner.query(`DROP INDEX "users_email_trgm_idx"`);
  }
}
