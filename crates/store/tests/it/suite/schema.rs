//! Placeholders and migrations: what both backends must do the same way.

use super::*;

suite!(
    numbered_placeholders_work_on_both,
    migrations_are_recorded_once,
);

async fn numbered_placeholders_work_on_both(db: &Db) {
    // `$N` placeholders, out of order and repeated, bind by number on SQLite too.
    let row = sqlx::query("SELECT CAST($2 AS BIGINT) - CAST($1 AS BIGINT) + CAST($2 AS BIGINT)")
        .bind(1_i64)
        .bind(10_i64)
        .fetch_one(&raw_pool(&db.url).await)
        .await
        .unwrap();
    assert_eq!(row.try_get::<i64, _>(0).unwrap(), 19);
}

async fn migrations_are_recorded_once(db: &Db) {
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM schema_migrations").await,
        migration_files(db.backend)
    );
    // Opening again applies nothing new and keeps the data.
    db.store
        .create(&actor(), alloc("HSSIB", 2024, data("HSSIB", "A")), now())
        .await
        .unwrap();
    let again = SqlStore::open(&db.url).await.unwrap();
    assert_eq!(again.count().await.unwrap(), 1);
    again.close().await;
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM schema_migrations").await,
        migration_files(db.backend)
    );
    assert_eq!(db.store.backend(), db.backend);
    if db.backend == Backend::Sqlite {
        let row = sqlx::query("PRAGMA journal_mode")
            .fetch_one(&raw_pool(&db.url).await)
            .await
            .unwrap();
        assert_eq!(row.try_get::<String, _>(0).unwrap(), "wal");
    }
}

/// How many migrations this build has for a backend (one file each).
fn migration_files(backend: Backend) -> i64 {
    let folder = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(folder);
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .count() as i64
}
