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
