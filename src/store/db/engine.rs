//! The engines behind [`super::Db`]: named trees of ordered bytes with compare-and-swap and
//! transactions over several trees. sled (the default: one process, one folder) or PostgreSQL
//! (feature `postgres`: several portals on one database). The typed operations in the other
//! files of this folder are written once, against this interface; each engine's module is the
//! only user of its crate.

#[cfg(feature = "postgres")]
use super::postgres_kv;
use super::sled_kv;
use super::tree::{Entries, Tree};
use crate::store::{Refusal, StoreError};

/// Why a step inside a transaction failed.
pub enum TxFail {
    /// The transaction's condition failed: nothing is written.
    Refused(Refusal),
    /// sled failed or saw a conflict (then sled runs the transaction again).
    Sled(sled_kv::Fail),
    /// PostgreSQL failed or saw a conflict (then the transaction runs again).
    #[cfg(feature = "postgres")]
    Pg(postgres_kv::Fail),
}

impl From<Refusal> for TxFail {
    fn from(r: Refusal) -> TxFail {
        TxFail::Refused(r)
    }
}

/// A lock shared by every portal on the database, held until dropped (its field is only ever
/// dropped).
#[allow(dead_code)]
pub struct Exclusive(#[cfg(feature = "postgres")] postgres_kv::Exclusive);

/// A transaction's view of the trees it was opened with.
pub enum Tx<'a, 'b> {
    /// sled's views, in the order of the trees named.
    Sled(&'a [sled_kv::View], &'b [Tree]),
    /// A PostgreSQL transaction (serializable).
    #[cfg(feature = "postgres")]
    Pg(&'a mut postgres_kv::Tx<'b>),
}

impl Tx<'_, '_> {
    /// The value under `key`.
    pub fn get(&mut self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, TxFail> {
        match self {
            Tx::Sled(views, trees) => {
                sled_kv::tx_get(view(views, trees, tree)?, key).map_err(TxFail::Sled)
            }
            #[cfg(feature = "postgres")]
            Tx::Pg(tx) => tx.get(tree, key).map_err(TxFail::Pg),
        }
    }

    /// Sets `key` to `value`.
    pub fn insert(&mut self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), TxFail> {
        match self {
            Tx::Sled(views, trees) => {
                sled_kv::tx_insert(view(views, trees, tree)?, key, value).map_err(TxFail::Sled)
            }
            #[cfg(feature = "postgres")]
            Tx::Pg(tx) => tx.insert(tree, key, value).map_err(TxFail::Pg),
        }
    }

    /// Removes `key`.
    pub fn remove(&mut self, tree: Tree, key: &[u8]) -> Result<(), TxFail> {
        match self {
            Tx::Sled(views, trees) => {
                sled_kv::tx_remove(view(views, trees, tree)?, key).map_err(TxFail::Sled)
            }
            #[cfg(feature = "postgres")]
            Tx::Pg(tx) => tx.remove(tree, key).map_err(TxFail::Pg),
        }
    }

    /// A number never handed out before by this database.
    pub fn next_id(&mut self) -> Result<u64, TxFail> {
        match self {
            Tx::Sled(views, _) => sled_kv::tx_next_id(&views[0]).map_err(TxFail::Sled),
            #[cfg(feature = "postgres")]
            Tx::Pg(tx) => tx.next_id().map_err(TxFail::Pg),
        }
    }
}

/// sled's view of `tree`: a tree the transaction was not opened with is a bug, refused as
/// corrupt rather than written outside the transaction.
fn view<'v>(
    views: &'v [sled_kv::View],
    trees: &[Tree],
    tree: Tree,
) -> Result<&'v sled_kv::View, TxFail> {
    trees
        .iter()
        .position(|t| *t == tree)
        .and_then(|i| views.get(i))
        .ok_or(TxFail::Refused(Refusal::Corrupt))
}

/// One open database.
#[derive(Clone)]
pub enum Engine {
    /// sled in a folder.
    Sled(sled_kv::Sled),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Pg(postgres_kv::Pg),
}

impl Engine {
    /// The value under `key`.
    pub fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Engine::Sled(e) => e.get(tree, key),
            #[cfg(feature = "postgres")]
            Engine::Pg(e) => e.get(tree, key),
        }
    }

    /// Every entry whose key starts with `prefix`, in key order.
    pub fn scan(&self, tree: Tree, prefix: &[u8]) -> Result<Entries, StoreError> {
        match self {
            Engine::Sled(e) => e.scan(tree, prefix),
            #[cfg(feature = "postgres")]
            Engine::Pg(e) => e.scan(tree, prefix),
        }
    }

    /// Every entry of `tree`, in key order.
    pub fn all(&self, tree: Tree) -> Result<Entries, StoreError> {
        self.scan(tree, &[])
    }

    /// Sets `key` to `new` (`None`: removes it) only if it still holds `old` (`None`: absent).
    /// False when it held something else (nothing written).
    pub fn cas(
        &self,
        tree: Tree,
        key: &[u8],
        old: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<bool, StoreError> {
        match self {
            Engine::Sled(e) => e.cas(tree, key, old, new),
            #[cfg(feature = "postgres")]
            Engine::Pg(e) => e.cas(tree, key, old, new),
        }
    }

    /// Sets `key` to `value` (`None`: removes it) whatever it held: for a derived index only
    /// (the open cases), never for a record.
    pub fn set(&self, tree: Tree, key: &[u8], value: Option<&[u8]>) -> Result<(), StoreError> {
        match self {
            Engine::Sled(e) => e.set(tree, key, value),
            #[cfg(feature = "postgres")]
            Engine::Pg(e) => e.set(tree, key, value),
        }
    }

    /// Adds one to the counter under `key` (8 bytes, big-endian; absent counts as 0) and
    /// returns the new value, atomically.
    pub fn increment(&self, tree: Tree, key: &[u8]) -> Result<u64, StoreError> {
        match self {
            Engine::Sled(e) => e.increment(tree, key),
            #[cfg(feature = "postgres")]
            Engine::Pg(e) => e.increment(tree, key),
        }
    }

    /// Runs `f` as one transaction over `trees` (all of them or nothing is written; run
    /// again on a conflict with another writer). A refusal from `f` is
    /// [`StoreError::Refused`] and writes nothing.
    pub fn transact<T>(
        &self,
        trees: &[Tree],
        f: impl Fn(&mut Tx<'_, '_>) -> Result<T, TxFail>,
    ) -> Result<T, StoreError> {
        match self {
            Engine::Sled(e) => e.transact(trees, |views| {
                f(&mut Tx::Sled(views, trees)).map_err(|fail| match fail {
                    TxFail::Refused(r) => sled_kv::Abort::Abort(r),
                    TxFail::Sled(fail) => fail.into(),
                    // A PostgreSQL step inside a sled transaction cannot happen.
                    #[cfg(feature = "postgres")]
                    TxFail::Pg(_) => sled_kv::Abort::Abort(Refusal::Corrupt),
                })
            }),
            #[cfg(feature = "postgres")]
            Engine::Pg(e) => e.transact(|tx| {
                f(&mut Tx::Pg(tx)).map_err(|fail| match fail {
                    TxFail::Refused(r) => postgres_kv::Abort::Refused(r),
                    TxFail::Pg(e) => postgres_kv::Abort::Pg(e),
                    TxFail::Sled(_) => postgres_kv::Abort::Refused(Refusal::Corrupt),
                })
            }),
        }
    }

    /// A number never handed out before by this database.
    pub fn next_id(&self) -> Result<u64, StoreError> {
        match self {
            Engine::Sled(e) => e.next_id(),
            #[cfg(feature = "postgres")]
            Engine::Pg(e) => e.next_id(),
        }
    }

    /// Makes every write before it durable (sled flushes; PostgreSQL's commits already are).
    pub fn flush(&self) -> Result<(), StoreError> {
        match self {
            Engine::Sled(e) => e.flush(),
            #[cfg(feature = "postgres")]
            Engine::Pg(_) => Ok(()),
        }
    }

    /// Removes every entry of `tree`.
    pub fn clear(&self, tree: Tree) -> Result<(), StoreError> {
        match self {
            Engine::Sled(e) => e.clear(tree),
            #[cfg(feature = "postgres")]
            Engine::Pg(e) => e.clear(tree),
        }
    }

    /// True when `tree` holds nothing.
    pub fn is_empty(&self, tree: Tree) -> Result<bool, StoreError> {
        match self {
            Engine::Sled(e) => e.is_empty(tree),
            #[cfg(feature = "postgres")]
            Engine::Pg(e) => e.is_empty(tree),
        }
    }

    /// True while this portal should do the background work (notifier, retention): always
    /// for sled (one process); for PostgreSQL, while it holds the database's lock for it.
    pub fn lead(&self) -> Result<bool, StoreError> {
        match self {
            Engine::Sled(_) => Ok(true),
            #[cfg(feature = "postgres")]
            Engine::Pg(e) => e.lead(),
        }
    }

    /// Waits for and takes the lock `name` that every portal on this database shares; `None`
    /// for sled, which only one process opens (the caller's own mutex is the lock).
    #[cfg_attr(not(feature = "postgres"), allow(unused_variables))]
    pub fn exclusive(&self, name: &str) -> Result<Option<Exclusive>, StoreError> {
        match self {
            Engine::Sled(_) => Ok(None),
            #[cfg(feature = "postgres")]
            Engine::Pg(e) => e.exclusive(name).map(|x| Some(Exclusive(x))),
        }
    }

    /// The engine's name, for `health` and errors.
    pub fn name(&self) -> &'static str {
        match self {
            Engine::Sled(_) => "sled",
            #[cfg(feature = "postgres")]
            Engine::Pg(_) => "postgres",
        }
    }
}
