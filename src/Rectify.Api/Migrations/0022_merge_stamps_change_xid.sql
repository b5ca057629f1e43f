-- Migration 0022: the push's merge stamps change_xid itself, with its transaction's id taken once per statement, so
-- that rewriting a million values no longer calls the row trigger of migration 0009 a million times (its PL/pgSQL
-- call was 0.3-0.6 s per million updated rows; tests/Benchmarks/RESULTS.md). The trigger stays for every other writer
-- (SQL by hand, a later feature) and now fires only for an update that leaves change_xid as it was: such an update
-- still gets its transaction's id, as before. An update that sets change_xid keeps the value it set; the merge sets
-- its own transaction's id, the one the trigger would have given.
DROP TRIGGER data_values_change_xid ON data_values;
CREATE TRIGGER data_values_change_xid BEFORE UPDATE ON data_values
    FOR EACH ROW WHEN (NEW.change_xid IS NOT DISTINCT FROM OLD.change_xid) EXECUTE FUNCTION data_values_stamp_xid();
