-- A fallback session remembers the password it was made with (a
-- fingerprint of the hash): after a reset it no longer matches, so a
-- session a sign-in made with the old password while the reset ran ends
-- too. Rows from before have none and match nothing.
ALTER TABLE sessions
    ADD COLUMN pw_fingerprint CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '';
