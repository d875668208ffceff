DROP INDEX cli_tokens_revoked_at;
