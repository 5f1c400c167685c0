-- Throng as an OpenID Connect provider (issue 18): the applications that
-- sign their users in with Throng, the signing keys, the grants a user
-- gave them, the consents remembered and the refresh tokens. Codes and
-- access tokens are short-lived and live in Redis.

-- A registered application. `secret_hash` is an HMAC-SHA256 (under a
-- key derived from authd's master key for this purpose) of its secret:
-- 256 random bits shown once, at registration, which no one can guess, so
-- a fast keyed hash is enough and a token request costs no argon2. Empty
-- for a public client, which must use PKCE. Redirect URIs are matched
-- exactly.
CREATE TABLE oidc_clients (
    client_id       VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    name            VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    secret_hash     VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
    redirect_uris   TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    post_logout_uris TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    backchannel_logout_uri VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    id_token_alg    VARCHAR(8) CHARACTER SET ascii NOT NULL DEFAULT 'RS256',
    created_at      TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The signing keys. The private half is sealed (AES-256-GCM under a key
-- derived from authd's master key for this purpose alone); the public
-- half is published at the JWKS endpoint until `retired_at` plus the
-- longest life of a token it signed.
CREATE TABLE oidc_keys (
    kid          VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    alg          VARCHAR(8) CHARACTER SET ascii NOT NULL,
    public_jwk   TEXT CHARACTER SET ascii NOT NULL,
    private_sealed BLOB NOT NULL,
    created_at   TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    retired_at   TIMESTAMP(3) NULL
) ENGINE=InnoDB;

-- What a user allowed an application, remembered so the next
-- authorization asks nothing.
CREATE TABLE oidc_consents (
    user_id    BIGINT UNSIGNED NOT NULL,
    client_id  VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    scope      VARCHAR(255) CHARACTER SET ascii NOT NULL,
    granted_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (user_id, client_id),
    CONSTRAINT oidc_consents_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT oidc_consents_client FOREIGN KEY (client_id) REFERENCES oidc_clients (client_id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- One authorization code exchanged: the grant its tokens belong to. The
-- Throng session it came from (`sid`) ties it to that session's logout.
CREATE TABLE oidc_grants (
    id         BIGINT UNSIGNED NOT NULL PRIMARY KEY, -- 63 random bits: a batch inserts many at once
    user_id    BIGINT UNSIGNED NOT NULL,
    client_id  VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    scope      VARCHAR(255) CHARACTER SET ascii NOT NULL,
    sid        CHAR(32) CHARACTER SET ascii NOT NULL,
    auth_time  BIGINT UNSIGNED NOT NULL,
    created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    revoked_at TIMESTAMP(3) NULL,
    KEY oidc_grants_user (user_id, revoked_at),
    KEY oidc_grants_sid (sid, revoked_at),
    CONSTRAINT oidc_grants_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT oidc_grants_client FOREIGN KEY (client_id) REFERENCES oidc_clients (client_id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- Refresh tokens (their SHA-256), rotated on use: a token used a second
-- time ends its whole grant.
CREATE TABLE oidc_refresh_tokens (
    token_hash BINARY(32) NOT NULL PRIMARY KEY,
    grant_id   BIGINT UNSIGNED NOT NULL,
    issued_at  TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    expires_at TIMESTAMP(3) NOT NULL,
    used_at    TIMESTAMP(3) NULL,
    KEY oidc_refresh_grant (grant_id),
    CONSTRAINT oidc_refresh_grant FOREIGN KEY (grant_id) REFERENCES oidc_grants (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- Throng as a relying party: an identity at another OpenID provider
-- (`provider`, its id in `oidc.upstream`; `subject`, its `sub`) linked to
-- an account. `made_account`: the identity created the account, which
-- then has no password anyone knows.
CREATE TABLE user_identities (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id      BIGINT UNSIGNED NOT NULL,
    provider     VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    subject      VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    email        VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NULL,
    made_account BOOLEAN NOT NULL DEFAULT FALSE,
    linked_at    TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    UNIQUE KEY user_identities_subject (provider, subject),
    KEY user_identities_user (user_id),
    CONSTRAINT user_identities_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
