-- The notification DB. Every physical shard holds both tables; every row lives
-- on the shard of its user id (all reads and writes are per user). Times are
-- epoch ms; ids are ASCII (the protocol's IdSchema), compared bytewise.

-- One row per (user, room): the user has read the room up to seq. Only ever
-- grows. The unread count of a room is its last seq (the message service's)
-- minus this, so a message costs no write per member.
CREATE TABLE read_markers (
  user_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  room_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  seq BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, room_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- The mention inbox: one row per (user, message), so a redelivered message
-- adds nothing. Paged newest first by (ts, message_id); marked read by id, all
-- at once, or by reading the room past the entry's seq.
CREATE TABLE mentions (
  user_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  message_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  room_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  seq BIGINT NOT NULL,
  sender_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  -- the body's first 200 characters (LIMITS.mentionExcerptMaxChars), any Unicode
  excerpt VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  ts BIGINT NOT NULL,
  read_at BIGINT NULL,
  PRIMARY KEY (user_id, message_id),
  KEY mentions_by_time (user_id, ts, message_id),
  KEY mentions_by_room (user_id, room_id, seq),
  KEY mentions_unread (user_id, read_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
