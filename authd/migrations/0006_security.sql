-- Roles and privileges, locked accounts, the audit log, the session index
-- and what sign-in history and its analysis need (issue 17).
--
-- Permissions are names the code checks (authd/src/roles.rs lists them);
-- roles are data: the three built in here, and any an operator defines
-- with `authd admin role`.

CREATE TABLE roles (
    name        VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    description VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    builtin     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE role_permissions (
    role       VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    permission VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    PRIMARY KEY (role, permission),
    CONSTRAINT role_permissions_role FOREIGN KEY (role) REFERENCES roles (name) ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE user_roles (
    user_id    BIGINT UNSIGNED NOT NULL,
    role       VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    granted_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (user_id, role),
    KEY user_roles_role (role),
    CONSTRAINT user_roles_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT user_roles_role FOREIGN KEY (role) REFERENCES roles (name) ON DELETE CASCADE
) ENGINE=InnoDB;

INSERT INTO roles (name, description, builtin) VALUES
    ('user', 'Every account: its own profile, sessions and sign-ins.', TRUE),
    ('support', 'Finds accounts, sees their sign-ins and sessions, locks them and ends their sessions.', TRUE),
    ('admin', 'Everything, including granting roles and reading the audit log and the analysis.', TRUE);

INSERT INTO role_permissions (role, permission) VALUES
    ('support', 'users.read'), ('support', 'users.lock'), ('support', 'sessions.revoke'),
    ('admin', 'users.read'), ('admin', 'users.lock'), ('admin', 'sessions.revoke'),
    ('admin', 'roles.grant'), ('admin', 'audit.read'), ('admin', 'insight.read');

-- A locked account cannot sign in; locking it also ends its sessions.
ALTER TABLE users ADD COLUMN locked_at TIMESTAMP(3) NULL;

-- Who did what to whom, when and from where. Append-only: the triggers
-- refuse every UPDATE and DELETE, whoever sends it.
CREATE TABLE audit_log (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    at          TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    actor_id    BIGINT UNSIGNED NULL,
    actor       VARCHAR(64) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
    action      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    target_id   BIGINT UNSIGNED NULL,
    target      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL DEFAULT '',
    detail      VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    ip          VARCHAR(45) CHARACTER SET ascii NOT NULL DEFAULT '',
    KEY audit_log_target (target_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_log is append-only';
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_log is append-only';

-- What each sign-in brings beyond the record: the region, the device
-- (a hash of the device cookie), the page that sent the visitor to the
-- sign-in form, and the session it made (the SHA-256 of its token).
ALTER TABLE login_records
    ADD COLUMN country  CHAR(2) CHARACTER SET ascii NOT NULL DEFAULT '',
    ADD COLUMN city     VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    ADD COLUMN device   BINARY(16) NULL,
    ADD COLUMN referrer VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    ADD COLUMN warnings SMALLINT UNSIGNED NOT NULL DEFAULT 0,
    ADD KEY login_records_username (username, at, ip),
    ADD KEY login_records_ip (ip, at, username);

-- The session index: one row per session a sign-in made, so that an
-- account's open sessions can be listed and ended one by one. Written by
-- the login-record writer off the request path (a sorted set per user in
-- Redis on the sign-in path was measured to triple its Redis time); the
-- session itself still lives in Redis, which says whether it is alive.
CREATE TABLE session_index (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    token_hash  BINARY(32) NOT NULL,
    user_id     BIGINT UNSIGNED NOT NULL,
    created_at  TIMESTAMP(3) NOT NULL,
    ip          VARCHAR(45) CHARACTER SET ascii NOT NULL,
    country     CHAR(2) CHARACTER SET ascii NOT NULL DEFAULT '',
    city        VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    user_agent  VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    last_seen_at TIMESTAMP(3) NULL,
    checked_at  TIMESTAMP(3) NULL,
    ended_at    TIMESTAMP(3) NULL,
    end_reason  VARCHAR(16) CHARACTER SET ascii NOT NULL DEFAULT '',
    UNIQUE KEY session_index_token (token_hash),
    KEY session_index_user (user_id, created_at),
    KEY session_index_open (ended_at, checked_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Rollups for the behaviour analysis, kept by the login-record writer as
-- it writes each batch: the views read these, never login_records whole.
-- `hour` is hours since the Unix epoch.
CREATE TABLE insight_user_hour (
    hour      INT UNSIGNED NOT NULL,
    username  VARCHAR(64) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
    attempts  INT UNSIGNED NOT NULL DEFAULT 0,
    successes INT UNSIGNED NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, username),
    KEY insight_user_hour_attempts (hour, attempts)
) ENGINE=InnoDB;

CREATE TABLE insight_ip_hour (
    hour     INT UNSIGNED NOT NULL,
    ip       VARCHAR(45) CHARACTER SET ascii NOT NULL,
    attempts INT UNSIGNED NOT NULL DEFAULT 0,
    failures INT UNSIGNED NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, ip),
    KEY insight_ip_hour_failures (hour, failures)
) ENGINE=InnoDB;

-- Successful sign-ins by one dimension's value per hour: country,
-- browser, platform, referrer (the referring page's origin); and `all`,
-- whose values `attempts` and `successes` count every attempt of the hour.
CREATE TABLE insight_dim_hour (
    hour    INT UNSIGNED NOT NULL,
    dim     VARCHAR(16) CHARACTER SET ascii NOT NULL,
    value   VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    signins INT UNSIGNED NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, dim, value)
) ENGINE=InnoDB;

-- Sessions that ended, by the hour they ended and how long they lasted
-- (bucket: the upper bound in seconds).
CREATE TABLE insight_session_hour (
    hour     INT UNSIGNED NOT NULL,
    bucket   INT UNSIGNED NOT NULL,
    sessions INT UNSIGNED NOT NULL DEFAULT 0,
    seconds  BIGINT UNSIGNED NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, bucket)
) ENGINE=InnoDB;
