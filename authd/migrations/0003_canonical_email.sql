-- E-mail addresses are stored in their canonical form (NFC, local part
-- lowercased, domain in IDNA ASCII; authd's validate::email) and compared
-- byte for byte. Under utf8mb4_unicode_ci, addresses that are different
-- mailboxes ("strasse" and "straße", "e" and "é") collided in the unique
-- key and in lookups.
--
-- Rows written before this migration were stored as sent: lowercasing
-- them here (while the old collation still guarantees they stay unique)
-- makes every ASCII address canonical; the few with other letters get
-- NFC and IDNA in migration 0004 (Rust: store/migrate.rs).
UPDATE users SET email = LOWER(email) WHERE email IS NOT NULL;
ALTER TABLE users
    MODIFY email VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL;
