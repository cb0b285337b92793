import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Failed sign-ins no longer record the identifier as it was typed (it is
 * often a password in the wrong field): the text already stored is erased.
 * Events that name an account keep the account; the others keep no trace of
 * the text. Nothing to restore on the way down.
 */
export class AuditForgetsTypedIdentifiers1730000350000 implements MigrationInterface {
  name = 'AuditForgetsTypedIdentifiers1730000350000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `UPDATE "audit_events" SET "detail" = "detail" - 'identifier'
        WHERE "type" = 'login.failed' AND "detail" ? 'identifier'`,
    );
  }

  public async down(): Promise<void> {
    // The erased text is gone for good.
  }
}
