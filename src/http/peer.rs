//! Who is at the other end of the admin socket: the peer's local user (`SO_PEERCRED`, read
//! when it connects), as the actor of what it asks for.

use crate::record::Actor;
use actix_web::HttpRequest;

/// The local user id of an admin socket connection's peer (set when it connects).
#[derive(Debug, Clone, Copy)]
pub struct PeerUid(pub u32);

/// Records the peer's user id of a new admin socket connection (`HttpServer::on_connect`).
pub fn on_connect(conn: &dyn std::any::Any, ext: &mut actix_web::dev::Extensions) {
    if let Some(stream) = conn.downcast_ref::<actix_web::rt::net::UnixStream>()
        && let Ok(cred) = stream.peer_cred()
    {
        ext.insert(PeerUid(cred.uid()));
    }
}

/// Who sent a request: the admin socket peer's user id, named (from the password database)
/// only on the blocking pool.
#[derive(Debug, Clone, Copy)]
pub(super) struct Who(Option<u32>);

impl Who {
    /// The actor, by the local user's name (blocking: reads the password database).
    pub(super) fn actor(self) -> Actor {
        match self.0 {
            Some(uid) => Actor::unix(&crate::os::user_name(uid)),
            None => Actor::unix("unknown"),
        }
    }
}

/// Who sent `req`.
pub(super) fn who(req: &HttpRequest) -> Who {
    Who(req.conn_data::<PeerUid>().map(|p| p.0))
}
