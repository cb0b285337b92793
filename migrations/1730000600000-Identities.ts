import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sign-in with other providers (OpenID Connect): the identities linked to
 * accounts (a provider and its `sub`, never an email), the flows waiting for
 * a provider's callback (bound to the browser that started them), and the
 * one-time codes and link tickets (SHA-256 only).
 */
export class Identities1730000600000 implements MigrationInterface {
  name = 'Identities1730000600000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "identities" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL,
        "provider" character varying(32) NOT NULL,
        "subject" character varying(255) NOT NULL,
        "email" character varying(320),
        "linked_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "last_used_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "identities_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "identities_user_id_fkey" FOREIGN KEY ("user_id")
          REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "identities_provider_subject_key" ON "identities" ("provider", "subject")`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "identities_user_provider_key" ON "identities" ("user_id", "provider")`,
    );

    await queryRunner.query(`
      CREATE TABLE "oidc_flows" (
        "state_hash" character varying(64) NOT NULL,
        "browser_hash" character varying(64) NOT NULL,
        "provider" character varying(32) NOT NULL,
        "nonce" character varying(128) NOT NULL,
        "code_verifier" character varying(128) NOT NULL,
        "redirect_to" text NOT NULL,
        "link_user_id" uuid,
        "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "oidc_flows_pkey" PRIMARY KEY ("state_hash"),
        CONSTRAINT "oidc_flows_link_user_id_fkey" FOREIGN KEY ("link_user_id")
          REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await queryRunner.query(
      `CREATE INDEX "oidc_flows_expires_at_idx" ON "oidc_flows" ("expires_at")`,
    );

    await queryRunner.query(`
      CREATE TABLE "oidc_tickets" (
        "ticket_hash" character varying(64) NOT NULL,
        "kind" character varying(8) NOT NULL,
        "user_id" uuid NOT NULL,
        "provider" character varying(32) NOT NULL,
        "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "oidc_tickets_pkey" PRIMARY KEY ("ticket_hash"),
        CONSTRAINT "oidc_tickets_user_id_fkey" FOREIGN KEY ("user_id")
          REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await queryRunner.query(
      `CREATE INDEX "oidc_tickets_expires_at_idx" ON "oidc_tickets" ("expires_at")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "oidc_tickets"`);
    await queryRunner.query(`DROP TABLE "oidc_flows"`);
    await queryRunner.query(`DROP TABLE "identities"`);
  }
}
