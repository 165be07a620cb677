//! Where the store's writes go. On PostgreSQL, the pool: writers run side by side. On SQLite,
//! which takes one writer at a time, one connection of its own behind a lock: writers queue
//! for it and are handed it the moment it is free, instead of contending for the file's write
//! lock (where a writer that finds it taken sleeps in steps of milliseconds). A pooled
//! connection would also cost a round trip to its thread each time it is given back (sqlx
//! checks every connection returned to a pool); this one is never given back.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::StoreError;

/// The way to the database for writes; cheap to clone.
#[derive(Debug, Clone)]
pub(super) enum Writer {
    /// Connections of the pool.
    Pool(AnyPool),
    /// The one writing connection.
    One(Arc<Mutex<AnyConnection>>),
}

/// A connection to write with, for as long as it is held.
#[derive(Debug)]
pub(super) enum WriteConn {
    /// From the pool.
    Pool(PoolConnection<Any>),
    /// The one writing connection, locked.
    One(OwnedMutexGuard<AnyConnection>),
}

impl Writer {
    /// A connection to write with: waits for the pool, or for the writing connection.
    pub(super) async fn acquire(&self) -> Result<WriteConn, StoreError> {
        Ok(match self {
            Self::Pool(pool) => WriteConn::Pool(pool.acquire().await?),
            Self::One(conn) => WriteConn::One(Arc::clone(conn).lock_owned().await),
        })
    }

    /// Closes the writing connection (the pool is closed with the readers).
    pub(super) async fn close(&self) {
        if let Self::One(conn) = self {
            let mut conn = conn.lock().await;
            // Checkpoints the WAL into the database file; nothing is lost if it cannot.
            let _checkpointed =
                sqlx::Executor::execute(&mut *conn, "PRAGMA wal_checkpoint(TRUNCATE)").await;
        }
    }
}

impl Deref for WriteConn {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        match self {
            Self::Pool(conn) => conn,
            Self::One(conn) => conn,
        }
    }
}

impl DerefMut for WriteConn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            Self::Pool(conn) => conn,
            Self::One(conn) => conn,
        }
    }
}
