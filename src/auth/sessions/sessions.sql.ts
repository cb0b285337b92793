import { USER_COLUMNS } from '../../users/user-row';

// SessionsRepository's statements, written by hand: the hot ones are planned once per connection.

/**
 * The live sessions among the given ids, with their users (the caller matches
 * each to the user its token names). Driven by `s.id = ANY($1)` on the
 * primary key, whatever the statistics say: the statement is prepared once
 * per connection, and PostgreSQL may settle on a generic plan.
 */
export const SESSION_USERS_SQL = `
  SELECT s.id AS session_id, ${USER_COLUMNS}
  FROM sessions s JOIN users u ON u.id = s.user_id
  WHERE s.id = ANY($1::uuid[]) AND s.revoked_at IS NULL AND s.expires_at > now()
    AND u.disabled = false`;

export const LIST_ACTIVE_SQL = `
  SELECT s.id, s.user_agent, s.ip, s.created_at,
         GREATEST(s.last_used_at, rt.created_at) AS last_used
  FROM sessions s
  LEFT JOIN refresh_tokens rt ON rt.session_id = s.id AND rt.spent_at IS NULL
  WHERE s.user_id = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
  ORDER BY last_used DESC, s.created_at DESC`;

/** The session ($1-$7) and its first refresh token: the start of both statements below. */
const NEW_SESSION = `
  WITH s AS (
    INSERT INTO sessions (user_id, ip, user_agent, expires_at, amr, aal)
    VALUES ($1, $2, $3, $4, $6::text[], $7)
    RETURNING id, auth_time
  ), first_token AS (
    INSERT INTO refresh_tokens (session_id, token_hash, generation) SELECT id, $5, 0 FROM s
  )`;

/** The new session's statement, with further WITH items (`furtherItems`) that read it from `s`. */
export const createSessionSql = (further: string) => `${NEW_SESSION}${further}
  SELECT id, auth_time FROM s`;

/**
 * createSessionSql, and the device ($8, a keyed hash) recorded as seen
 * now; when the account had not signed in from it within $10 days, the alert
 * mail ($9, its payload) is queued in the outbox by the same statement, so a
 * sign-in is never answered without its alert. Older devices of the account
 * are forgotten on the way. A device is new when this statement inserted
 * its row (`xmax = 0`: of concurrent first sign-ins from one device, one
 * inserts and the others, waiting on its key, update), or when its row was
 * older than $10 days (`stale` reads the rows as they were before the
 * statement).
 */
export const createSessionOnDeviceSql = (further: string) => `${NEW_SESSION}, stale AS (
    SELECT 1 FROM known_devices
    WHERE user_id = $1 AND device_hash = $8
      AND last_seen_at <= now() - make_interval(days => $10)
  ), seen AS (
    INSERT INTO known_devices (user_id, device_hash) VALUES ($1, $8)
    ON CONFLICT (user_id, device_hash) DO UPDATE SET last_seen_at = now()
    RETURNING (xmax = 0) AS inserted
  ), forgotten AS (
    DELETE FROM known_devices
    WHERE user_id = $1 AND device_hash <> $8
      AND last_seen_at < now() - make_interval(days => $10)
  ), alert AS (
    INSERT INTO outbox (kind, recipient, user_id, payload)
    SELECT 'new_device', u.email, u.id, $9::jsonb FROM users u
    WHERE u.id = $1 AND u.email IS NOT NULL
      AND (EXISTS (SELECT 1 FROM seen WHERE inserted) OR EXISTS (SELECT 1 FROM stale))
    RETURNING id
  )${further}
  SELECT id, auth_time, EXISTS (SELECT 1 FROM alert) AS alerted FROM s`;

/**
 * One statement, so one round trip and one commit, for any number of
 * presented tokens (given as two arrays: the presented token's hash and its
 * successor's): spend each one that is live and whose session and user are
 * too, add its successor, and return the user. The UPDATE is a
 * compare-and-set on the token's row: of concurrent presentations exactly one
 * still finds it unspent. A session has one live token, so at most one
 * row per session comes back. The plan must stay on the token's unique
 * index whatever the statistics say (see SESSION_USERS_SQL): "not spent" is
 * written as a coalesce, because `spent_at IS NULL` matches the partial index
 * of live tokens, which a planner with stale statistics (a young, busy
 * database) scans whole instead, every live session of every user. And it is
 * planned at each execution (HotStatements#queryReplanned), not once per
 * connection: while the table of tokens is small, scanning it all is the
 * cheapest plan, and every refresh adds a row to it (the bench's refreshes,
 * 3,000 a second: a plan made at 700 rows went on scanning 30,000 of them,
 * 90 refreshes a second instead of 2,500).
 */
export const ROTATE_LIVE_SQL = `
  WITH spent AS (
    UPDATE refresh_tokens rt SET spent_at = $3
    FROM sessions s, users u
    WHERE rt.token_hash = ANY($1::text[])
      AND coalesce(rt.spent_at, '-infinity') = '-infinity'
      AND s.id = rt.session_id AND s.revoked_at IS NULL AND s.expires_at > now()
      AND u.id = s.user_id AND u.disabled = false
    RETURNING rt.session_id, rt.generation, rt.token_hash, s.user_id, s.auth_time, s.amr, s.aal
  ), successor AS (
    INSERT INTO refresh_tokens (session_id, token_hash, generation)
    SELECT spent.session_id, p.successor_hash, spent.generation + 1
    FROM spent
    JOIN unnest($1::text[], $2::text[]) AS p(token_hash, successor_hash)
      ON p.token_hash = spent.token_hash
    RETURNING session_id
  )
  SELECT ${USER_COLUMNS}, spent.session_id, spent.token_hash AS presented_hash,
         spent.auth_time, spent.amr, spent.aal
  FROM spent
  JOIN successor ON successor.session_id = spent.session_id
  JOIN users u ON u.id = spent.user_id`;
