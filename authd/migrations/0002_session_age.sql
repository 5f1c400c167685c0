-- Sessions get an absolute lifetime: the time they were made.
ALTER TABLE sessions
    ADD COLUMN created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    ADD KEY sessions_user (user_id);
