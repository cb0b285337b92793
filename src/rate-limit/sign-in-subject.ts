/** What failed sign-ins are counted against: the account, or the identifier when no account has it. */
export function signInSubject(user: { id: string } | null, identifier: string): string {
  return user ? `user:${user.id}` : `identifier:${identifier.trim().toLowerCase()}`;
}
