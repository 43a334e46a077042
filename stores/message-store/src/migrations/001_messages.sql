-- The message DB, one copy per physical shard; rows are placed by room id.
-- room_seq holds each room's last assigned seq: its row lock serialises the
-- writers of one room, so seqs are gap-free (see message-store.mysql.ts).
CREATE TABLE room_seq (
  room_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  last_seq BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (room_id)
) ENGINE=InnoDB;

CREATE TABLE messages (
  room_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  seq BIGINT NOT NULL,
  id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  sender_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  client_msg_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  body TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  ts BIGINT NOT NULL,
  edited_ts BIGINT NULL,
  deleted BOOLEAN NOT NULL DEFAULT 0,
  PRIMARY KEY (room_id, seq),
  -- Idempotency of sends: a retried clientMsgId of the same sender in the same room.
  UNIQUE KEY uq_messages_client (room_id, sender_id, client_msg_id),
  UNIQUE KEY uq_messages_id (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
