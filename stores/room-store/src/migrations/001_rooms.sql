-- The room DB. Every physical shard holds every table; a row lives on the
-- shard of its key: rooms and room_members by room id, user_rooms by user id,
-- dm_pairs by pair key, applied_commands by room id. Times are epoch ms.
CREATE TABLE rooms (
  id VARCHAR(64) NOT NULL PRIMARY KEY,
  -- group names are at most 80 characters; a DM is named after its two users
  name VARCHAR(200) NOT NULL,
  kind ENUM('group', 'dm') NOT NULL,
  created_by VARCHAR(64) NOT NULL,
  created_at BIGINT NOT NULL
) ENGINE = InnoDB;

CREATE TABLE room_members (
  room_id VARCHAR(64) NOT NULL,
  user_id VARCHAR(64) NOT NULL,
  joined_at BIGINT NOT NULL,
  PRIMARY KEY (room_id, user_id)
) ENGINE = InnoDB;

CREATE TABLE user_rooms (
  user_id VARCHAR(64) NOT NULL,
  room_id VARCHAR(64) NOT NULL,
  joined_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, room_id)
) ENGINE = InnoDB;

CREATE TABLE dm_pairs (
  pair_key VARCHAR(140) NOT NULL PRIMARY KEY,
  room_id VARCHAR(64) NOT NULL
) ENGINE = InnoDB;

-- Membership commands (invite, leave) already applied to room_members, so a
-- redelivered command is recognised and its effects are redone. Rows older
-- than the command topic's retention can never be redelivered and may be pruned.
CREATE TABLE applied_commands (
  command_id VARCHAR(255) NOT NULL PRIMARY KEY,
  room_id VARCHAR(64) NOT NULL,
  applied_at BIGINT NOT NULL
) ENGINE = InnoDB;
