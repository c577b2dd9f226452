//! The trees of the database, named once for every engine.

/// Key and value pairs, in key order.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// The trees of the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tree {
    /// Record id → record (JSON).
    Submissions,
    /// SHA-256 of a reference → record id.
    Refs,
    /// Case number → record id.
    Cases,
    /// Counters and markers (8 bytes, big-endian).
    Meta,
    /// Key id → key information (JSON).
    Keys,
    /// Sequence number (8 bytes, big-endian) → audit event (JSON).
    Audit,
    /// SHA-256 of an invitation token → invitation (JSON).
    Invites,
    /// Name → a document the team signed (JSON).
    Published,
    /// Ids of the records still open: derived from the records, rebuilt at every start.
    Open,
}

impl Tree {
    /// Every tree, in the order of [`Tree::index`].
    pub const ALL: [Tree; 9] = [
        Tree::Submissions,
        Tree::Refs,
        Tree::Cases,
        Tree::Meta,
        Tree::Keys,
        Tree::Audit,
        Tree::Invites,
        Tree::Published,
        Tree::Open,
    ];

    /// Its name (sled's tree name).
    pub fn name(self) -> &'static str {
        match self {
            Tree::Submissions => "submissions",
            Tree::Refs => "refs",
            Tree::Cases => "cases",
            Tree::Meta => "meta",
            Tree::Keys => "keys",
            Tree::Audit => "audit",
            Tree::Invites => "invites",
            Tree::Published => "published",
            Tree::Open => "open",
        }
    }

    /// Its position in [`Tree::ALL`] (and its number in PostgreSQL).
    pub fn index(self) -> usize {
        self as usize
    }
}
