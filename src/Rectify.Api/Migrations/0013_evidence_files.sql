-- 0013 Evidence files (佐证材料, issue 11): an evidence entry of a measure can carry a file, kept in versions. Each upload
-- is a new version with its SHA-256, size, sanitised file name and content type; old versions stay readable. A reviewer
-- decides on a version (accepted or rejected), recording the hash it judged.
--
-- The bytes are bytea in a table of their own, one row per version, so that reading the versions' metadata never
-- touches them. STORAGE EXTERNAL: out of line in TOAST but not compressed (PDFs, images and zip-based documents are
-- compressed already; pglz would spend CPU for nothing), which also lets substring() read a slice by fetching only the
-- TOAST chunks it covers — downloads and Range requests read 1 MiB slices, never the whole value.

CREATE TABLE evidence_file_versions (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    evidence_id      bigint NOT NULL CONSTRAINT evidence_file_versions_evidence_exists REFERENCES measure_evidence (id),
    measure_id       bigint NOT NULL CONSTRAINT evidence_file_versions_measure_exists REFERENCES measures (id),
    version          integer NOT NULL CONSTRAINT evidence_file_versions_version_positive CHECK (version >= 1),
    sha256           text NOT NULL CONSTRAINT evidence_file_versions_sha256_format CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes       bigint NOT NULL CONSTRAINT evidence_file_versions_size_valid CHECK (size_bytes >= 0),
    file_name        text NOT NULL CONSTRAINT evidence_file_versions_file_name_length CHECK (length(file_name) BETWEEN 1 AND 255),
    content_type     text NOT NULL CONSTRAINT evidence_file_versions_content_type_length CHECK (length(content_type) BETWEEN 1 AND 200),
    status           text NOT NULL DEFAULT 'submitted'
                     CONSTRAINT evidence_file_versions_status_known CHECK (status IN ('submitted', 'accepted', 'rejected')),
    uploaded_by      text NOT NULL,
    uploaded_at      timestamptz NOT NULL,
    decided_by       text,
    decided_at       timestamptz,
    decision_comment text CONSTRAINT evidence_file_versions_decision_comment_length CHECK (length(decision_comment) <= 2000),
    -- The hash of the bytes the reviewer judged (the version's own: versions never change).
    decided_sha256   text,
    CONSTRAINT evidence_file_versions_version_unique UNIQUE (evidence_id, version),
    CONSTRAINT evidence_file_versions_decision_complete
        CHECK ((status = 'submitted') = (decided_by IS NULL AND decided_at IS NULL AND decided_sha256 IS NULL))
);
CREATE INDEX evidence_file_versions_measure ON evidence_file_versions (measure_id);

CREATE TABLE evidence_file_contents (
    version_id bigint PRIMARY KEY CONSTRAINT evidence_file_contents_version_exists REFERENCES evidence_file_versions (id),
    content    bytea NOT NULL
);
ALTER TABLE evidence_file_contents ALTER COLUMN content SET STORAGE EXTERNAL;

-- The change feed follows file versions (metadata only: the key and, when read, the version row without its bytes).
CREATE TRIGGER evidence_file_versions_changes_insert AFTER INSERT ON evidence_file_versions REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION record_changes('evidence-file',
        'jsonb_build_object(''id'', r.id, ''evidenceId'', r.evidence_id, ''measureId'', r.measure_id, ''version'', r.version)',
        '(SELECT m.owner_unit_code FROM measures m WHERE m.id = r.measure_id)');
CREATE TRIGGER evidence_file_versions_changes_update AFTER UPDATE ON evidence_file_versions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION record_changes('evidence-file',
        'jsonb_build_object(''id'', r.id, ''evidenceId'', r.evidence_id, ''measureId'', r.measure_id, ''version'', r.version)',
        '(SELECT m.owner_unit_code FROM measures m WHERE m.id = r.measure_id)');

-- measure.evidence-file-uploaded: one event per uploaded version, for the unit that owns the measure.
CREATE FUNCTION evidence_file_uploaded_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM enqueue_webhook_events(coalesce(jsonb_agg(jsonb_build_object(
        'type', 'measure.evidence-file-uploaded', 'unit', m.owner_unit_code,
        'data', jsonb_build_object('evidenceFile', camel_keys(to_jsonb(n)))) ORDER BY n.id), '[]'))
    FROM new_rows n JOIN measures m ON m.id = n.measure_id;
    RETURN NULL;
END $$;
CREATE TRIGGER evidence_file_versions_events AFTER INSERT ON evidence_file_versions REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION evidence_file_uploaded_events();
