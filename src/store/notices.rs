//! What the notifier may read and write: the open cases, its once-only markers, and the
//! reminder stamp of an agreed publication. A narrow handle instead of the database.

use super::{Db, StoreError};
use crate::record::Record;

/// The notifier's handle on the store.
#[derive(Clone)]
pub struct Notices(pub(super) Db);

impl Notices {
    /// True while this portal does the background work (see [`super::Store::leads_background`]).
    pub fn leads(&self) -> Result<bool, StoreError> {
        self.0.leads_background()
    }

    /// Open cases (and closed ones with an unreminded publication), oldest first.
    pub fn open_records(&self) -> Result<Vec<Record>, StoreError> {
        self.0.open_records()
    }

    /// The installed signed security.txt (the notifier warns before its `Expires`).
    pub fn security_txt(&self) -> Result<Option<crate::securitytxt::Signed>, StoreError> {
        super::Store::security_txt_of(&self.0)
    }

    /// A marker's value.
    pub fn marker(&self, name: &str) -> Result<Option<u64>, StoreError> {
        self.0.marker(name)
    }

    /// Sets a marker once (flushed); true when it was not set before.
    pub fn set_marker(&self, name: &str, value: u64) -> Result<bool, StoreError> {
        self.0.set_marker(name, value)
    }

    /// Changes case `case` by `f` (compare-and-swap, flushed): the notifier's own stamps.
    pub fn update_case<E: From<StoreError>>(
        &self,
        case: &str,
        f: impl FnMut(&mut Record) -> Result<(), E>,
    ) -> Result<Option<Record>, E> {
        self.0.update_case(case, f)
    }
}
