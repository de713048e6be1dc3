-- The store's schema as deployed on 2026-12-05, before migrations (SQLite), made by that
-- version's create_all: the migration tests upgrade a database made from it.
CREATE TABLE admin_actions (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	admin_id BIGINT NOT NULL, 
	action VARCHAR(32) NOT NULL, 
	detail TEXT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE awaited_texts (
	user_id BIGINT NOT NULL, 
	purpose VARCHAR(16) NOT NULL, 
	target BIGINT NOT NULL, 
	since DATETIME NOT NULL, 
	PRIMARY KEY (user_id)
);
CREATE TABLE conversation_starts (
	chat_id BIGINT NOT NULL, 
	user_id BIGINT NOT NULL, 
	started_at DATETIME NOT NULL, 
	PRIMARY KEY (chat_id, user_id)
);
CREATE TABLE curated_answers (
	id INTEGER NOT NULL, 
	origin VARCHAR(40), 
	question TEXT NOT NULL, 
	answer TEXT NOT NULL, 
	language VARCHAR(8) NOT NULL, 
	audience VARCHAR(16) NOT NULL, 
	approved_by BIGINT NOT NULL, 
	approved_at DATETIME NOT NULL, 
	changed_by BIGINT NOT NULL, 
	changed_at DATETIME NOT NULL, 
	retired_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (origin)
);
CREATE TABLE feedback (
	id INTEGER NOT NULL, 
	question_id BIGINT NOT NULL, 
	user_id BIGINT NOT NULL, 
	vote BIGINT NOT NULL, 
	voted_at DATETIME NOT NULL, 
	question TEXT NOT NULL, 
	answer TEXT NOT NULL, 
	sources JSON NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (question_id, user_id)
);
CREATE TABLE learner_branches (
	user_id BIGINT NOT NULL, 
	branch VARCHAR(100) NOT NULL, 
	chosen_at DATETIME NOT NULL, 
	PRIMARY KEY (user_id)
);
CREATE TABLE pending_uploads (
	id INTEGER NOT NULL, 
	admin_id BIGINT NOT NULL, 
	file_id VARCHAR(300) NOT NULL, 
	name VARCHAR(120) NOT NULL, 
	audience VARCHAR(8), 
	language VARCHAR(8), 
	sent_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE question_log (
	id INTEGER NOT NULL, 
	asked_at DATETIME NOT NULL, 
	user_id BIGINT NOT NULL, 
	chat_id BIGINT NOT NULL, 
	language VARCHAR(8) NOT NULL, 
	abstained BOOLEAN NOT NULL, 
	latency_ms FLOAT NOT NULL, 
	question TEXT NOT NULL, 
	answer TEXT NOT NULL, 
	sources JSON NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE question_pace (
	user_id BIGINT NOT NULL, 
	full_at FLOAT NOT NULL, 
	PRIMARY KEY (user_id)
);
CREATE TABLE register_failures (
	user_id BIGINT NOT NULL, 
	failures BIGINT NOT NULL, 
	window_start DATETIME NOT NULL, 
	PRIMARY KEY (user_id)
);
CREATE TABLE staff_users (
	user_id BIGINT NOT NULL, 
	branch VARCHAR(100) NOT NULL, 
	registered_at DATETIME NOT NULL, 
	PRIMARY KEY (user_id)
);
CREATE TABLE ticket_messages (
	chat_id BIGINT NOT NULL, 
	message_id BIGINT NOT NULL, 
	ticket_id BIGINT NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	PRIMARY KEY (chat_id, message_id)
);
CREATE TABLE ticket_replies (
	id INTEGER NOT NULL, 
	ticket_id BIGINT NOT NULL, 
	author_id BIGINT NOT NULL, 
	from_staff BOOLEAN NOT NULL, 
	text TEXT NOT NULL, 
	sent_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE tickets (
	id INTEGER NOT NULL, 
	question_id BIGINT NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	opened_at DATETIME NOT NULL, 
	learner_id BIGINT NOT NULL, 
	learner_chat_id BIGINT NOT NULL, 
	learner_name VARCHAR(200) NOT NULL, 
	language VARCHAR(8) NOT NULL, 
	question TEXT NOT NULL, 
	answer TEXT NOT NULL, 
	branch VARCHAR(100), 
	staff_chat_id BIGINT NOT NULL, 
	announced_at DATETIME, 
	reminded_at DATETIME, 
	answered_at DATETIME, 
	closed_at DATETIME, 
	learner_unreachable BOOLEAN NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (question_id)
);
CREATE TABLE update_claims (
	bot_id BIGINT NOT NULL, 
	update_id BIGINT NOT NULL, 
	claimed_at DATETIME NOT NULL, 
	done BOOLEAN NOT NULL, 
	PRIMARY KEY (bot_id, update_id)
);
CREATE TABLE vote_reviews (
	feedback_id BIGINT NOT NULL, 
	outcome VARCHAR(16) NOT NULL, 
	reviewed_by BIGINT NOT NULL, 
	reviewed_at DATETIME NOT NULL, 
	PRIMARY KEY (feedback_id)
);
CREATE TABLE web_logins (
	token_hash VARCHAR(64) NOT NULL, 
	admin_id BIGINT NOT NULL, 
	expires_at DATETIME NOT NULL, 
	used_at DATETIME, 
	PRIMARY KEY (token_hash)
);
CREATE TABLE web_sessions (
	token_hash VARCHAR(64) NOT NULL, 
	kind VARCHAR(8) NOT NULL, 
	user_id BIGINT NOT NULL, 
	branch VARCHAR(100), 
	csrf VARCHAR(64) NOT NULL, 
	expires_at DATETIME NOT NULL, 
	PRIMARY KEY (token_hash)
);
CREATE INDEX ix_admin_actions_at ON admin_actions (at);
CREATE INDEX ix_curated_answers_changed_at ON curated_answers (changed_at);
CREATE INDEX ix_question_log_asked_at ON question_log (asked_at);
CREATE INDEX ix_question_log_conversation ON question_log (chat_id, user_id, asked_at);
CREATE INDEX ix_ticket_messages_ticket_id ON ticket_messages (ticket_id);
CREATE INDEX ix_ticket_replies_ticket_id ON ticket_replies (ticket_id);
CREATE INDEX ix_tickets_learner_id ON tickets (learner_id);
CREATE INDEX ix_tickets_state_opened ON tickets (state, opened_at);
CREATE INDEX ix_update_claims_claimed_at ON update_claims (claimed_at);
CREATE INDEX ix_web_sessions_expires_at ON web_sessions (expires_at);
