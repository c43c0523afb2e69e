-- 5: sign-in state (store.SignInState) shared by the API processes of
-- the store: a single sign-on flow between the redirect to the provider
-- and its callback, and one-time sign-in tickets.

CREATE TABLE signin_states (
	kind    text NOT NULL,
	hash    bytea NOT NULL,
	data    bytea NOT NULL,
	expires bigint NOT NULL,
	PRIMARY KEY (kind, hash)
);
CREATE INDEX signin_states_expiry ON signin_states (expires);
