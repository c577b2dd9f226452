//! The sled engine: one tree per [`Tree`], sled's own transactions and compare-and-swap. The
//! only module that uses sled.

use super::tree::{Entries, Tree};
use crate::store::{Refusal, StoreError};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use std::path::Path;

/// sled's view of one tree inside a transaction.
pub type View = sled::transaction::TransactionalTree;
/// sled's failure inside a transaction (a conflict makes sled run it again).
pub type Fail = sled::transaction::UnabortableTransactionError;
/// How a transaction's closure stops: a refusal, or sled's failure (run again on a conflict).
pub type Abort = ConflictableTransactionError<Refusal>;

/// A sled database in a folder; cheap to clone.
#[derive(Clone)]
pub struct Sled {
    db: sled::Db,
    /// In the order of [`Tree::ALL`].
    trees: Vec<sled::Tree>,
}

/// A sled error as the store's: a full disk while sled writes or flushes is the client's 507,
/// not an internal error.
pub fn db_err(e: impl std::fmt::Display + 'static) -> StoreError {
    if let Some(sled::Error::Io(io)) = (&e as &dyn std::any::Any).downcast_ref::<sled::Error>()
        && (io.kind() == std::io::ErrorKind::StorageFull || io.raw_os_error() == Some(28))
    {
        return StoreError::Full;
    }
    StoreError::Db(e.to_string())
}

impl Sled {
    /// Opens (or creates) the database in `dir` with a page cache of at most `cache_bytes`.
    /// Fails if another process holds it.
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Sled, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .mode(sled::Mode::HighThroughput)
            .open()
            .map_err(|e| StoreError::Open {
                path: dir.to_owned(),
                detail: e.to_string(),
            })?;
        let trees = Tree::ALL
            .iter()
            .map(|t| db.open_tree(t.name()).map_err(db_err))
            .collect::<Result<_, _>>()?;
        Ok(Sled { db, trees })
    }

    fn tree(&self, tree: Tree) -> &sled::Tree {
        &self.trees[tree.index()]
    }

    pub fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .tree(tree)
            .get(key)
            .map_err(db_err)?
            .map(|v| v.to_vec()))
    }

    pub fn scan(&self, tree: Tree, prefix: &[u8]) -> Result<Entries, StoreError> {
        self.tree(tree)
            .scan_prefix(prefix)
            .map(|item| item.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(db_err))
            .collect()
    }

    pub fn cas(
        &self,
        tree: Tree,
        key: &[u8],
        old: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<bool, StoreError> {
        Ok(self
            .tree(tree)
            .compare_and_swap(key, old, new)
            .map_err(db_err)?
            .is_ok())
    }

    pub fn set(&self, tree: Tree, key: &[u8], value: Option<&[u8]>) -> Result<(), StoreError> {
        match value {
            Some(v) => self.tree(tree).insert(key, v).map(|_| ()),
            None => self.tree(tree).remove(key).map(|_| ()),
        }
        .map_err(db_err)
    }

    pub fn increment(&self, tree: Tree, key: &[u8]) -> Result<u64, StoreError> {
        let v = self
            .tree(tree)
            .update_and_fetch(key, |old| {
                Some(counter(old).saturating_add(1).to_be_bytes().to_vec())
            })
            .map_err(db_err)?;
        Ok(counter(v.as_deref()))
    }

    pub fn transact<T>(
        &self,
        trees: &[Tree],
        f: impl Fn(&[View]) -> Result<T, Abort>,
    ) -> Result<T, StoreError> {
        let handles: Vec<sled::Tree> = trees.iter().map(|t| self.tree(*t).clone()).collect();
        handles[..]
            .transaction(|views| f(&views[..]))
            .map_err(|e| match e {
                TransactionError::Abort(r) => StoreError::Refused(r),
                TransactionError::Storage(e) => db_err(e),
            })
    }

    pub fn next_id(&self) -> Result<u64, StoreError> {
        self.db.generate_id().map_err(db_err)
    }

    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(|_| ()).map_err(db_err)
    }

    pub fn clear(&self, tree: Tree) -> Result<(), StoreError> {
        self.tree(tree).clear().map_err(db_err)
    }

    pub fn is_empty(&self, tree: Tree) -> Result<bool, StoreError> {
        Ok(self.tree(tree).is_empty())
    }
}

/// A counter's value (absent or malformed: 0).
fn counter(bytes: Option<&[u8]>) -> u64 {
    bytes
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_be_bytes)
}

pub fn tx_get(view: &View, key: &[u8]) -> Result<Option<Vec<u8>>, Fail> {
    Ok(view.get(key)?.map(|v| v.to_vec()))
}

pub fn tx_insert(view: &View, key: &[u8], value: &[u8]) -> Result<(), Fail> {
    view.insert(key, value)?;
    Ok(())
}

pub fn tx_remove(view: &View, key: &[u8]) -> Result<(), Fail> {
    view.remove(key)?;
    Ok(())
}

pub fn tx_next_id(view: &View) -> Result<u64, Fail> {
    Ok(view.generate_id()?)
}

#[cfg(test)]
mod disk_full_tests {
    use super::*;

    #[test]
    fn a_full_disk_during_a_database_write_or_flush_is_a_full_store() {
        let full = sled::Error::Io(std::io::Error::from_raw_os_error(28));
        assert!(matches!(db_err(full), StoreError::Full));
        assert!(db_err(sled::Error::Io(std::io::Error::from_raw_os_error(28))).is_disk_full());
        let other = sled::Error::Io(std::io::Error::from_raw_os_error(5));
        assert!(matches!(db_err(other), StoreError::Db(_)));
        assert!(matches!(db_err("corrupt"), StoreError::Db(_)));
    }
}
