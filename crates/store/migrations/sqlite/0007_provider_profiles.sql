-- What each provider says it is (kind of provider, settings, region), from
-- which its priority list follows. One row per organisation.
CREATE TABLE provider_profiles (
    org          TEXT PRIMARY KEY NOT NULL,
    kind         TEXT NOT NULL,
    profile_json TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
