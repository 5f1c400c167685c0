-- Users, their profiles, login records and fallback sessions. utf8mb4
-- everywhere; usernames are ASCII and unique case-insensitively.

CREATE TABLE users (
    id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    uuid       BINARY(16) NOT NULL,
    username   VARCHAR(64) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
    email      VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NULL,
    pwhash     VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    UNIQUE KEY users_uuid (uuid),
    UNIQUE KEY users_username (username),
    UNIQUE KEY users_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE profiles (
    user_id    BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    nickname   VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    avatar     CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    CONSTRAINT profiles_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE login_records (
    id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id    BIGINT UNSIGNED NULL,
    username   VARCHAR(64) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
    at         TIMESTAMP(3) NOT NULL,
    ip         VARCHAR(45) CHARACTER SET ascii NOT NULL,
    user_agent VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    result     VARCHAR(32) CHARACTER SET ascii NOT NULL,
    KEY login_records_user (user_id, at),
    KEY login_records_at (at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Sessions made while Redis was down (tokens prefixed "m."); the normal
-- home of sessions is Redis.
CREATE TABLE sessions (
    token_hash BINARY(32) NOT NULL PRIMARY KEY,
    user_id    BIGINT UNSIGNED NOT NULL,
    expires_at TIMESTAMP(3) NOT NULL,
    KEY sessions_expiry (expires_at),
    CONSTRAINT sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB;
