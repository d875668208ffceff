-- SQLite's documents return to their WITHOUT ROWID table (see migrations/sqlite/); a
-- PostgreSQL table keeps its rows in a heap beside the slug's index already.
SELECT 1;
