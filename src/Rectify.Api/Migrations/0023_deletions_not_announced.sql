-- Migration 0023: data_value_deletions is the change feed's record of deleted values, bookkeeping like the feed's other
-- tables (migration 0021 left it announced by mistake). No cached answer reads it, and every writer that adds to it
-- deletes from data_values in the same transaction, which announces the change; but the change feed's pruning
-- (Features/Changes/ChangePruning.cs) deletes from it every hour on every node, and a statement trigger fires even for
-- a DELETE that removes nothing, so each pruning run emptied every node's read cache for no change of any answer.
DROP TRIGGER notify_change ON data_value_deletions;
