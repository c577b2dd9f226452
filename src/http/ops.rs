//! The one generic route of the team's operations (`adminapi::op`, rules in `ops/`) and their
//! one executor: the request from the query (reads) or the JSON body (changes), the case from
//! the route, the actor from the admin socket's peer, the rule on the blocking pool, and every
//! error mapped to its stable code in one place (`admin::failure`).

use super::admin::blocking;
use crate::adminapi::op::Method;
use crate::ops::{Call, Execute};
use crate::portal::Portal;
use crate::record::Actor;
use actix_web::{HttpRequest, HttpResponse, web};

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

/// Who sent `req`: the local user of the admin socket's peer.
pub(super) fn actor_of(req: &HttpRequest) -> Actor {
    match req.conn_data::<PeerUid>() {
        Some(PeerUid(uid)) => Actor::unix(&crate::os::user_name(*uid)),
        None => Actor::unix("unknown"),
    }
}

/// Registers operation `O` at its route.
pub fn register<O: Execute>(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(O::ROUTE).route(route::<O>()));
}

/// The route of operation `O` (for a resource that also has other methods).
pub fn route<O: Execute>() -> actix_web::Route {
    match O::METHOD {
        Method::Get => web::get().to(get::<O>),
        Method::Post => web::post().to(post::<O>),
    }
}

async fn get<O: Execute>(
    req: HttpRequest,
    query: web::Query<O::Request>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    run::<O>(&req, query.into_inner(), portal).await
}

async fn post<O: Execute>(
    req: HttpRequest,
    body: web::Json<O::Request>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    run::<O>(&req, body.into_inner(), portal).await
}

async fn run<O: Execute>(
    req: &HttpRequest,
    request: O::Request,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let call = Call {
        actor: actor_of(req),
        case: req.match_info().get("case").map(str::to_owned),
        request,
    };
    blocking(portal, move |p| O::execute(p, call)).await
}
