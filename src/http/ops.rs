//! The one generic route of the team's operations (`adminapi::op`, rules in `ops/`) and their
//! one executor: the request from the query (reads) or the JSON body (changes), the case from
//! the route, the actor from the admin socket's peer, the rule on the blocking pool, and every
//! error mapped to its stable code in one place (`admin::failure`).

use super::admin::blocking;
use super::peer::who;
use crate::adminapi::op::Method;
use crate::ops::{Call, Execute};
use crate::portal::Portal;
use actix_web::{HttpRequest, HttpResponse, web};

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
    let (who, case) = (who(req), req.match_info().get("case").map(str::to_owned));
    blocking(portal, move |p| {
        let call = Call {
            actor: who.actor(),
            case,
            request,
        };
        O::execute(p, call)
    })
    .await
}
