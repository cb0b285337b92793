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

export const CREATE_SESSION_SQL = `
  WITH s AS (
    INSERT INTO sessions (user_id, ip, user_agent, expires_at, amr, aal)
    VALUES ($1, $2, $3, $4, $6::text[], $7)
    RETURNING id, auth_time
  ), first_token AS (
    INSERT INTO refresh_tokens (session_id, token_hash, generation) SELECT id, $5, 0 FROM s
  )
  SELECT id, auth_time FROM s`;

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
 * database) scans whole instead, every live session of every user.
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
