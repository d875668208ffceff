-- Every instance asks every 200 ms how many CLI tokens were revoked lately and when the
-- latest was (it then drops its token cache): an index answers both.
CREATE INDEX cli_tokens_revoked_at ON cli_tokens (revoked_at);
