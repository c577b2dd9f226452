//! Everything the server sends out: notification mail over SMTP and webhook POSTs. Never carries
//! report content (the callers guarantee it; this module never logs bodies).
//!
//! All calls block (TCP with connect, read and write timeouts) and are meant for a background
//! thread. TLS always verifies the peer against the system CA bundle plus an optional CA file,
//! and plain text is allowed only to loopback.

pub mod smtp;
pub mod webhook;
