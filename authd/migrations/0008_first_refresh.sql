-- A grant's first refresh token is derived from the grant, not stored
-- (authd/src/oidc/first_refresh.rs). Its first use is recorded here, on
-- the grant: the UPDATE that sets it is what a concurrent use collides
-- on, and no purge of refresh-token rows can erase it.
ALTER TABLE oidc_grants ADD COLUMN first_refresh_used_at TIMESTAMP(3) NULL;
