//! sealdrop: a file-drop portal for security reports, where nobody but the security team can read
//! what was dropped.
//!
//! # Data flow
//! ```text
//! every upload path (form, follow-up, invitation, each tus PATCH) passes gate: Portal::admit →
//! gate::Pass (global + per-client slots, gate::Pace: idle timeout and minimum rate), bytes
//! through gate::Sink (the one channel-fed sealer; charges headers, tags and block rounding to
//! the store's free-space reservation before writing)
//!
//! browser / curl ──HTTPS──▶ http::upload ──Bytes──▶ intake::Intake ──▶ seal::Sealer ──▶ seal::Spool
//!   multipart fields        (walks parts,   bounded   (limits, SHA-256   (age STREAM,     (SHA-256 of the
//!                            idle timeout)  channel    of the plaintext)  blocking thread)  ciphertext, write,
//!                                                                                         fsync; own thread)
//!            intake commit (its own task): manifest sealed → store::Store::commit (tmp/<id>
//!            fsynced; with S3, each file created as an object → group committer: rename into
//!            blobs/, one fsync of blobs/ and tmp/, the records, one flush per batch)
//! reporter ◀── 201 receipt: reference (shown once), case number, plaintext SHA-256 per file,
//!               signed receipt (receipt::Document text without the reference, signed by
//!               receipt::ReceiptKeys: Ed25519 SSHSIG, `ssh-keygen -Y verify`); keys published at
//!               /.well-known/sealdrop-receipt-keys (http::wellknown), `admin receipt-key
//!               [--rotate]`; offline `sealdrop verify-receipt` (receipt::verify)
//!
//! resumable (tus 1.0): browser app.js / `sealdrop send` / any tus client
//!   POST /api/v1/uploads (http::tus → tus::uploads: limits at creation, id = 160 random bits,
//!     kept as its SHA-256) → store::partial (tmp/tus-<hash>/; name, type and the running
//!     plaintext SHA-256 in memory only)
//!   PATCH …/{id} per piece → gate::Pass → tus::piece → gate::Sink: each piece a complete age
//!     file sealed to the upload's own key ring (fixed at creation), before 204 +
//!     Upload-Offset (a cut body is kept up to its last byte when it is a minimum piece)
//!   then the form POST names the finished uploads (`upload` fields) → intake::adopt_upload
//!     (pieces hard-linked in as consecutive NNN.age, one manifest entry each with `piece`)
//!     → the same commit and receipt as above; `sealdrop open` joins the pieces again
//!   expiry: http::run every minute (and start-up recovery, and a creation that finds the pool
//!     full) → store::partial::expire: past upload_expiry, or upload_idle_expiry without a piece
//!
//! team CLI ──Unix socket (0600)──▶ http::ops (one generic route + executor) ──▶ ops::<verb>
//!   teamcli    adminapi::op: each team action one type (route, method, request, answer),
//!   adminclient::call   shared by both ends; the rule in ops/<verb>.rs (impl Execute), the
//!                       actor from the socket peer (http::peer, SO_PEERCRED), errors mapped
//!                       to stable codes once (ops::error); a case change is
//!                       store::Store::apply: the record's compare-and-swap and its typed
//!                       audit event (record::AuditKind + actor) in one sled transaction
//!           streams (export, backup, import) and reads (register, metrics, health, keys) stay
//!           in http::admin / http::cases
//! console:  browser ──HTTPS (own listener, [console] listen)──▶ http::console: one more client
//!           of the same operations. Sign-in: console::oidc (OpenID Connect code flow + PKCE,
//!           state, nonce, discovery; ID token checked by openidconnect) or a one-time link
//!           (`admin console-link` → ops::console_link); members and roles by config
//!           (console::member_of). Sessions, links and pending sign-ins live in console::tokens
//!           under their SHA-256 only. Every page read and every form runs adminapi::op
//!           through ops::<verb> (http::console::act: one generic form handler) with the
//!           member as the actor (`console:NAME`), after the role, same-origin and CSRF checks
//!           (http::console::auth). It never sees a message, contact, file name or content.
//! offline:  sealdrop open bundle.tar -i identity.txt -o out/   (verify, decrypt, safe names)
//! sec.txt:  admin securitytxt render ──▶ the team signs offline (gpg --clearsign) ──▶
//!           admin securitytxt install (ops::security_txt: securitytxt::check, the signature by
//!           openpgp; stored in the store's `published` tree with its audit entry)
//!           ──▶ /.well-known/security.txt serves it byte for byte until its Expires, then the
//!           rendering again; the notifier warns 30 and 7 days before
//! CSAF:     admin advisory draft CASE (ops::advisory: csaf::compose from the team's fields and
//!           the resolved case; a draft in the `published` tree) ──▶ the team signs offline (gpg
//!           --detach-sign --armor) ──▶ admin advisory publish (openpgp::verify_detached over the
//!           draft's bytes; draft → advisory in one transaction with its audit entry) ──▶
//!           /.well-known/csaf/ (http::csaf → ops::csaf_folder → csaf::provider: metadata,
//!           index.txt, changes.csv, .sha256/.sha512/.asc); security.txt gains `CSAF:`
//! inspect:  sealdrop inspect bundle.tar -R recipients.txt     (no key: which key reads each
//!           object, post-quantum or not; inspect.rs reads the age headers, keys.rs matches tags)
//!
//! rotation: keys/recipients.txt ◀── rotation (keys add / retire edit it atomically)
//!           SIGHUP or `keys reload` ──▶ rotation::reload ──▶ KeyRingHandle swap (+ http::tls::CertStore)
//!           every record lists its key ids; `keys list` counts what each key reads, alone or at all
//! re-key:   admin export ──▶ offline `sealdrop rekey` (rekey.rs: decrypt + re-seal, verified)
//! share:    admin export ──▶ offline `sealdrop share` (rekey.rs with a Selection: no contact
//!           or credit, optionally no message or fewer files, to a third party's keys) ──▶
//!           `admin shared CASE --with IBD` (cases.rs → workflow: a history entry with
//!           `shared_with`; admin show, register column)
//!           ──▶ admin import (import.rs checks the bundle; store::Store::replace_ciphertext:
//!           new folder → record switched by compare-and-swap → old folder removed)
//! backup:   admin backup (store::backup: db snapshot + ciphertext, online) ──▶ `sealdrop
//!           restore` (every id, folder, case number and file validated before a byte is written)
//!
//! workflow: admin status / authority / note / shared / assign / list ──▶ ops::<verb> ──▶
//!           workflow.rs (states, history, filters, register; pure) ──▶ deadlines.rs (working
//!           days, Dutch holidays, clocks; pure) ; Store::apply writes the change with its audit
//! reporter: POST /api/v1/status (http::status, ratelimit) → Portal::case_by_reference
//!           (Portal::derive_reference: Argon2id with the portal's salt, bounded in flight; old
//!           cases by SHA-256) → cases::disclosure: its letters opened with the letterbox
//!           derived from the same work, in memory → workflow::disclosure: state, promises, expected fix date, credit,
//!           publication, timeline (newest first) → http::pages::status (case page + add files)
//! promises: admin expect / tell / credit / publish ──▶ ops::<verb> (one Store::apply each,
//!           audited without text) ──▶ workflow::disclosure (pure rules) ; tell seals the text
//!           to the case's letterbox recipient (letterbox::seal); /acknowledgments and the
//!           security.txt `Acknowledgments:` line list published credits
//!           POST /api/v1/submissions/files → intake (Kind::FollowUp) → a record of its own,
//!           committed with Guard::Parent (case still open; parent lists it, one transaction)
//!           GET/POST /u/<token> (http::invite) → intake (Kind::Invite) → Guard::Invite
//!           (consumed in the record's own transaction: two racing uploads, one wins)
//! retention: http::run purge loop (start-up + interval) → cases::purge → store::Store::purge
//!           (case marked first, closing it to follow-ups; then each follow-up; tombstone flushed
//!           before its folder goes, so a crash leaves only an orphan that recovery removes);
//!           a tombstone keeps no letterbox, letters or published credit name
//!           (record::Record::strip_to_tombstone), and the public credits are read again
//! notify:   notify.rs thread: scans records each interval / after each commit, sends what its
//!           markers say is unsent (outbound::smtp, outbound::webhook); reporter acknowledgement
//!           from memory only
//! metrics:  metrics.rs counters + gauges from the cases ──▶ admin /v1/metrics (Prometheus text)
//! pages:    http::pages: askama templates in web/ (compiled in, every value escaped) that
//!           extend web/layout.html (http::layout); http::i18n picks nl/en (?lang=,
//!           Accept-Language, org.languages), texts from web/i18n/*.toml as plain values;
//!           web/app.js enhances the form (limits, progress, cancel) and the receipt (copy,
//!           download); http::markdown renders /policy; http::wellknown serves security.txt
//! ```
//!
//! The upload path is a three-stage pipeline so that both cores work: the network thread hashes
//! the plaintext, a blocking thread encrypts, a spool thread hashes and writes the ciphertext.
//! Bounded channels between the stages are the backpressure that keeps memory constant.
//!
//! # Who owns what
//! `store::Store` owns the data directory and the records: `store::db` (typed operations
//! written once over `store::db::engine`: named trees of ordered bytes with compare-and-swap and
//! transactions over several trees; the engines are sled in `db/sled_kv.rs`, the default, and
//! PostgreSQL in `db/postgres_kv.rs` behind the `postgres` feature, each its crate's only user),
//! the ciphertext (`store::blobs`: `tmp/` for unfinished uploads, then `blobs/` in the data
//! folder, or objects in an S3-compatible bucket through `blobs/s3.rs` behind the `s3` feature,
//! object_store's only user), the group committer, free-space reservations and the clock.
//! Nothing outside `store/db/` knows which engine holds the records, nothing outside
//! `store/blobs/` which holds the ciphertext; with PostgreSQL and S3, several portals share
//! both, the one holding the database's advisory lock does the background work
//! (`Store::leads_background`: notifier, retention purge), and the store's locks (folders,
//! edits: `Store::hold`) are taken in the process and in the database.
//! Every multi-step durable change — commit, purge, ciphertext swap (import), backup, restore,
//! start-up recovery — is one method of it; every record write is a compare-and-swap or a
//! transaction of the engine; its locking rule is written once, in `store/mod.rs`. The database handle never
//! leaves the store: callers read through `Store` methods (`store::reads`), change a case only
//! through `Store::apply` (with its audit event and actor), and the notifier gets a narrow
//! `store::Notices`. Each team action is one operation (`adminapi::op` + `ops/<verb>.rs`);
//! `portal::Portal` is the context they read (config, policy, clock, keys, store, limits) plus
//! the reporter-facing steps that are not team actions. Time comes from one injected
//! `clock::Clock` (tests run a server in the future with `SEALDROPTEST_CLOCK_SHIFT`).
//! `kat.rs` pins every format that must never change silently (reference check symbol,
//! reference keys, letterbox keys, receipt text and signature, bundle index).
//!
//! # Where this differs from the first design
//! - Records carry an optional `blob_dir`: a re-keying import writes a new folder and switches
//!   the record to it, so the replacement is atomic without ever renaming over live data.
//! - Free space is reserved, not only checked: an upload must fit as a whole when it starts, and
//!   every byte is reserved (in 16 MiB steps) against `storage.min_free_bytes` before it is
//!   written, so concurrent uploads together cannot take the disk below it; a slow client that
//!   declares a huge upload holds only a step.
//! - The last durable steps are group-committed (`store::commit`): acknowledged still means
//!   durable, but concurrent uploads share the directory fsyncs and the sled flush.
//! - Extra limits beyond the agreed contract: `max_contact_bytes`, `max_part_header_bytes`,
//!   `request_header_timeout`, `lookups_per_minute`; plus `server.workers`, `server.public_url`,
//!   `server.client_ip_header`, a `[log]` and a `[notify]` section, and calendar keys in `[sla]`.
//! - Follow-up files are records of their own (`2026-0042-2`, `parent` set, listed in the case's
//!   `addenda`) instead of more files inside the case's folder: export, open, re-key and
//!   backup stay unchanged, and each record keeps exactly the keys its files were sealed to, so a
//!   follow-up after a rotation is not readable with a retired key.
//! - `retention.delete_after_days` counts from resolution (the issue's rule), not from receipt;
//!   a purge leaves the record as a tombstone (`purged_at`) so the breach register stays complete.
//! - Cross-site posts: Fetch Metadata (`Sec-Fetch-Site`) decides when present; `Origin: null`
//!   alone is accepted, because browsers send it for the portal's own forms under
//!   `Referrer-Policy: no-referrer`.
//! - The data-breach clock stops at a recorded authority decision (`admin authority`), which a
//!   data breach needs before it may be resolved: the register then documents it.
//! - Stored ciphertext carries a BLAKE3 digest (`blake3:<hex>`, `b3sum` checks it), not a second
//!   SHA-256: the receipt shows each file's plaintext SHA-256 instead (what the reporter can check
//!   with `sha256sum`; kept only inside the encrypted manifest). Old records keep their SHA-256.
//! - Ciphertext is written with direct I/O (page-aligned buffers, buffered tail, buffered where
//!   the file system refuses): the page-cache copy was the largest cost of an upload.
//! - Per-client limits key clients by IPv4 address or IPv6 /64, and read a forwarding header only
//!   from `server.trusted_proxies`; new reports per hour, uploads at once and a minimum average
//!   rate are limited per client (`limits.*`).
//! - The server holds one private key after all: the receipt key (`receipt::keystore`, in
//!   `data_dir/receipt-key/`, 0600, not in backups). It signs receipts and cannot decrypt;
//!   `receipt` manages its own folder (the store's fsync-and-rename order, for two small files)
//!   rather than `store::Store`, because it is key material, not submission data.
//! - Operations, not layers: a team action is one type in `adminapi::op` and one file in `ops/`
//!   (rule), plus its CLI variant and printed view; a new one touches those four places and
//!   its registration line. The admin protocol module knows no server type.
//! - One gate (`gate`) instead of limits per path: admission, pace, space charge and sealer are
//!   types a path must hold to receive bytes, so a new path cannot forget one. A report keeps
//!   one key ring for all its objects: the portal's when its first file starts, or the ring of
//!   the first resumable upload it takes (an upload keeps the ring it was created with while
//!   all its keys are current; after a retirement it is refused and removed), and uploads of
//!   other rings are refused (`keys-rotated`): the record then names exactly the keys that
//!   read every object, without per-object key lists.
//! - References are stored under Argon2id with a per-portal salt (`reference::Derived`), not
//!   SHA-256; the letterbox comes from the same work. Old cases keep their SHA-256 key.
//! - Resumable uploads (tus 1.0 under `/api/v1/uploads/`): each PATCH body is sealed as its own
//!   age file, so no stream key outlives a request and nothing secret is written down; a file
//!   is stored as consecutive `NNN.age` pieces listed in the manifest (`piece`), which `open`
//!   and `rekey` join and check against the whole file's SHA-256. Unfinished uploads live in
//!   memory and `tmp/` only: a restart forgets them (tus clients then start again), because
//!   their names and the running plaintext SHA-256 must not reach the disk. A report names
//!   finished uploads in `upload` fields of the usual forms, so the same rules, codes, commit
//!   and receipt apply. A record's file count counts pieces.
//! - Team mail is batched (one per `notify.check_interval`); the notifier walks an index of open
//!   cases (and of closed ones whose agreed publication was not reminded of yet);
//!   acknowledgements go through a bounded queue with scheduled retries.
//! - The policy's other promises live in the record's `disclosure` part (expected fix date,
//!   credit requested / published, agreed publication, their events) and are changed only by
//!   `workflow::disclosure`'s rules. Messages to the reporter are age files sealed to a
//!   recipient derived from the reference (`letterbox`): the only way to reach a reporter whose
//!   address the server cannot read, without giving the server a way to read the messages.
//! - The reference's check symbol is a weighted sum modulo 31 written with the reference's own
//!   alphabet (letters and digits only), instead of Crockford's modulo 37 with `*~$=U`.
//! - `[branding]` (logo, accent colour with a contrast check, footer links), served by the portal
//!   itself under the same CSP.
//! - `sealdrop send` talks to the portal's origin only (`send::address`): `https://`, or plain
//!   `http://` to a loopback host; a `Location` on another origin is refused. A certificate the
//!   client refuses is final; a portal that has not answered yet gets three tries, one that has
//!   answered keeps `--retries` for resuming. `sealdrop demo --dir` on an earlier demo restarts
//!   it, with a fresh certificate when its own ran out.

//! # Invariants
//! 1. No plaintext at rest: bytes are encrypted in memory before any write; names, message,
//!    contact and the name to credit live only inside the encrypted manifest; the team's messages
//!    to a reporter only inside letters sealed to the reporter's letterbox.
//! 2. The server holds only age recipients (public keys) for encryption; its one private key,
//!    the receipt key, signs receipts and can decrypt nothing. A letterbox identity exists in
//!    memory only while the reporter's request that carries the reference is answered.
//! 3. Acknowledged means durable: 201 only after every ciphertext file is fsynced, its folder
//!    renamed into place (parent fsynced) and the sled record flushed; once the commit is handed
//!    to the committer, a client that goes away cannot interrupt it.
//! 4. Not acknowledged means no trace: aborted or rejected uploads are removed at once; a crash
//!    leaves only `tmp/` entries and unrecorded blob folders, which start-up recovery deletes.
//! 5. Constant memory: bounded channels and a bounded number of concurrent uploads.
//! 6. Standard formats: every `.age` file decrypts with the stock `age` CLI.
//!
//! # Modules
//! Each module owns one concern; each external crate is used by one module
//! (sled: `store::db`, tar: `bundle`, age: `keys`/`seal`/`open`/`letterbox` (its `plugin` feature:
//! hardware identities for the offline commands, in `keys::Identities`), age-core's stanza parser:
//! `inspect`, bech32: `letterbox` and `keys`,
//! base64: `letterbox`, `tus::metadata` and `console::tokens`, actix: `http`, rustls: `http::tls` (the server's TLS;
//! for `demo` and `send` whether a certificate is in date and what a client refused),
//! lettre: `outbound::smtp`, ureq and rustls-native-certs: `outbound::webhook` (and the client
//! side of `send::client`), indicatif: `send::progress`, sha2, hkdf and blake3: `digest`,
//! argon2: `digest`, rustix: `os`, ipnet: `clientaddr`, jiff time
//! zones: `deadlines`/`workflow`, bytesize: `config::units`, pulldown-cmark: `http::markdown`,
//! askama: `http::pages` and `http::console::view`, openidconnect: `console::oidc`, pgp:
//! `openpgp`, cvss: `csaf::score`, clap with clap_mangen and clap_complete: `cli`, ssh-key:
//! `receipt::signing`).

#![forbid(unsafe_code)]

pub mod adminapi;
pub(crate) mod adminclient;
pub(crate) mod bundle;
pub(crate) mod cases;
pub(crate) mod causes;
pub mod cli;
pub(crate) mod clientaddr;
pub(crate) mod clock;
pub mod config;
pub(crate) mod console;
pub(crate) mod csaf;
pub(crate) mod deadlines;
pub mod demo;
pub(crate) mod digest;
pub(crate) mod error;
pub(crate) mod faultpoint;
pub(crate) mod gate;
pub mod hint;
pub mod http;
pub mod i18n;
pub(crate) mod import;
pub mod inspect;
pub(crate) mod intake;
pub(crate) mod kat;
pub mod keys;
pub(crate) mod letterbox;
pub mod logging;
pub(crate) mod metrics;
pub(crate) mod notify;
pub mod open;
pub(crate) mod openpgp;
pub(crate) mod ops;
pub mod os;
pub mod outbound;
pub mod portal;
pub(crate) mod ratelimit;
pub mod receipt;
pub(crate) mod record;
pub(crate) mod refcheck;
pub mod reference;
pub mod rekey;
pub(crate) mod rotation;
pub mod seal;
pub mod securitytxt;
pub mod send;
pub mod store;
pub mod teamcli;
pub mod terminal;
pub(crate) mod tus;
pub(crate) mod workflow;
