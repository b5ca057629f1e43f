-- 0003 Calling systems (clients) and their API keys. A key is stored only as the SHA-256 of the whole key (a
-- high-entropy secret, so a plain hash is enough); its short public prefix identifies it in lists and logs.

CREATE TABLE clients (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CONSTRAINT clients_name_unique UNIQUE
               CONSTRAINT clients_name_format CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    contact    text CHECK (length(contact) <= 300),
    scopes     text[] NOT NULL CONSTRAINT clients_scopes_valid
               CHECK (scopes <@ ARRAY['read', 'write', 'push', 'review', 'admin']::text[] AND cardinality(scopes) >= 1),
    -- The units (and the units below them) the client may write for; NULL: every unit.
    units      text[],
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);

CREATE TABLE api_keys (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id  bigint NOT NULL REFERENCES clients (id),
    prefix     text NOT NULL CONSTRAINT api_keys_prefix_unique UNIQUE,
    key_hash   bytea NOT NULL CONSTRAINT api_keys_hash_length CHECK (length(key_hash) = 32),
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX api_keys_client ON api_keys (client_id);
