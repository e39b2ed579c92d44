//! What the services derive from the database and keep in memory: the
//! similarity index with its book of links, the vectors' handle, the
//! deadline rules in force and the dashboard's fact table. Each is rebuilt
//! from the database (or caught up from the outbox); the use cases that
//! fill and read them live in the feature modules. They are kept here, apart
//! from those modules, so that `Services`, which owns them, imports none.

pub(crate) mod dashboard;
pub(crate) mod links;
pub(crate) mod meaning;
pub(crate) mod rules;
pub(crate) mod similar;
pub(crate) mod snapshot;
