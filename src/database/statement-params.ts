/**
 * The numbered parameters of one statement assembled from parts that
 * different modules write (e.g. a new user and the rows that go with it, see
 * UsersRepository.insert): each part adds its values and writes the
 * placeholders it gets back.
 */
export class StatementParams {
  readonly values: unknown[] = [];

  /** `first`: the number of the first placeholder still free ($first). */
  constructor(private readonly first: number) {}

  /** Adds a value; returns its placeholder. */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.first + this.values.length - 1}`;
  }
}

/**
 * Rows another module writes in the same statement as the caller's, so that
 * they stand or fall with it: further WITH items (`name AS (INSERT …)`) that
 * read the caller's row from its item, with their values added to `params`.
 */
export type StatementItems = (params: StatementParams) => string[];

/** The items `more` writes, as SQL to follow a statement's WITH items, and their values from $first on. */
export function furtherItems(
  more: StatementItems | undefined,
  first: number,
): { sql: string; values: unknown[] } {
  const params = new StatementParams(first);
  const items = more?.(params) ?? [];
  return { sql: items.map((item) => `, ${item}`).join(''), values: params.values };
}
