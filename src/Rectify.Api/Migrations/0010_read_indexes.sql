-- Indexes for the hot reads (issue 13).

-- The issues list filtered by round and state (the polling systems' query), in id order for the keyset: one index range,
-- already in order, instead of every issue of the round filtered.
CREATE INDEX issues_round_state ON issues (round_id, state, id);

-- Every issue read computes its progress and measure count from its measures: with state and progress in the index,
-- that aggregate is an index-only scan.
DROP INDEX measures_issue;
CREATE INDEX measures_issue ON measures (issue_id, id) INCLUDE (state, progress);

-- The measures list filtered by owner unit and state, in id order.
CREATE INDEX measures_owner_state ON measures (owner_unit_code, state, id);
