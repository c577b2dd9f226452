//! The HTTP surface: every route in one place, the public listener (HTTPS, or plain HTTP on
//! loopback), the admin Unix socket, security headers and request logging. The only module
//! that uses actix.

pub mod admin;
pub mod brand;
pub mod cases;
pub mod console;
mod csaf;
pub mod i18n;
pub mod invite;
mod layout;
pub mod markdown;
pub mod ops;
pub mod pages;
mod peer;
pub mod respond;
pub mod status;
pub mod tls;
pub mod tus;
pub mod upload;
pub mod wellknown;

use crate::adminapi::{PartState, Reloaded, route};
use crate::hint::Hint;
use crate::portal::Portal;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{DefaultHeaders, ErrorHandlers};
use actix_web::{App, HttpServer, web};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// TLS files are unusable.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// A listener could not be bound.
    #[error("cannot listen on {what}: {source}")]
    Bind {
        /// Which listener.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Users other than the owner may enter the admin socket's folder.
    #[error(
        "the admin socket's folder {} can be entered by other users (mode {mode:04o})",
        folder.display()
    )]
    SocketFolderOpen {
        /// The folder of `server.admin_socket`.
        folder: std::path::PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The branding cannot be loaded.
    #[error(transparent)]
    Brand(#[from] crate::config::ConfigError),
    /// The server failed while running.
    #[error("server stopped: {0}")]
    Run(std::io::Error),
}

impl crate::hint::Hint for ServeError {
    fn hint(&self) -> Option<String> {
        match self {
            ServeError::Tls(_) => Some(
                "server.tls_cert and server.tls_key must be PEM files that belong together".into(),
            ),
            ServeError::Bind { .. } => Some(
                "is another process using that address or socket? Change server.listen or stop it"
                    .into(),
            ),
            ServeError::SocketFolderOpen { folder, .. } => Some(format!(
                "run `chmod 700 {}`, or point server.admin_socket into a folder only this user \
                 can enter",
                folder.display()
            )),
            ServeError::Brand(e) => e.hint(),
            ServeError::Run(_) => None,
        }
    }
}

/// The Content-Security-Policy of every response: no inline script or style, nothing foreign.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                       connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Registers every public route. A path asked with a method it has no route for gets actix's
/// 405, whose `Allow` lists exactly the methods registered here; [`respond::method_not_allowed`]
/// gives it the portal's error body.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/")
            .route(web::get().to(pages::index))
            .route(web::head().to(pages::index)),
    )
    .service(web::resource("/api/v1/submissions").route(web::post().to(upload::submit)))
    .service(web::resource("/api/v1/submissions/files").route(web::post().to(upload::add_files)))
    .service(
        web::resource("/api/v1/uploads")
            .route(web::method(actix_web::http::Method::OPTIONS).to(tus::options))
            .route(web::post().to(tus::create)),
    )
    .service(
        web::resource("/api/v1/uploads/{id}")
            .route(web::method(actix_web::http::Method::OPTIONS).to(tus::options))
            .route(web::head().to(tus::head))
            .route(web::patch().to(tus::patch))
            .route(web::delete().to(tus::delete)),
    )
    .service(web::resource("/api/v1/status").route(web::post().to(status::lookup)))
    .service(
        web::resource("/status")
            .route(web::get().to(pages::status_form))
            .route(web::head().to(pages::status_form)),
    )
    .service(
        web::resource("/u/{token}")
            .route(web::get().to(invite::page))
            .route(web::head().to(invite::page))
            .route(web::post().to(upload::submit_invited)),
    )
    .service(
        web::resource("/accessibility")
            .route(web::get().to(pages::accessibility))
            .route(web::head().to(pages::accessibility)),
    )
    .service(
        web::resource("/acknowledgments")
            .route(web::get().to(pages::acknowledgments))
            .route(web::head().to(pages::acknowledgments)),
    )
    .service(
        web::resource("/policy")
            .route(web::get().to(pages::policy))
            .route(web::head().to(pages::policy)),
    )
    .service(
        web::resource("/.well-known/security.txt")
            .route(web::get().to(wellknown::security))
            .route(web::head().to(wellknown::security)),
    )
    .service(
        web::resource("/.well-known/csaf/provider-metadata.json")
            .route(web::get().to(csaf::metadata))
            .route(web::head().to(csaf::metadata)),
    )
    .service(
        web::resource([
            "/.well-known/csaf/white/",
            "/.well-known/csaf/white/{path:.+}",
        ])
        .route(web::get().to(csaf::folder))
        .route(web::head().to(csaf::folder)),
    )
    .service(
        web::resource("/.well-known/csaf/openpgp/{name}")
            .route(web::get().to(csaf::key))
            .route(web::head().to(csaf::key)),
    )
    .service(
        web::resource("/.well-known/age-recipients.txt")
            .route(web::get().to(wellknown::recipients))
            .route(web::head().to(wellknown::recipients)),
    )
    .service(
        web::resource("/.well-known/sealdrop-receipt-keys")
            .route(web::get().to(wellknown::receipt_keys))
            .route(web::head().to(wellknown::receipt_keys)),
    )
    .service(
        web::resource("/static/app.js")
            .route(web::get().to(pages::script))
            .route(web::head().to(pages::script)),
    )
    .service(
        web::resource("/static/brand.css")
            .route(web::get().to(brand::stylesheet))
            .route(web::head().to(brand::stylesheet)),
    )
    .service(
        web::resource("/static/logo")
            .route(web::get().to(brand::logo))
            .route(web::head().to(brand::logo)),
    )
    .service(
        web::resource("/static/style.css")
            .route(web::get().to(pages::stylesheet))
            .route(web::head().to(pages::stylesheet)),
    )
    .service(
        web::resource("/healthz")
            .route(web::get().to(pages::healthz))
            .route(web::head().to(pages::healthz)),
    );
}

/// Registers every admin route (served only on the Unix socket). Every path is a resource, so
/// that a method it does not take gets 405 with `Allow`, not 404.
pub fn admin_routes(cfg: &mut web::ServiceConfig) {
    let get = web::get;
    let post = web::post;
    use crate::adminapi::op;
    cfg.configure(admin::extractors)
        .configure(ops::register::<op::List>)
        .configure(ops::register::<op::Show>)
        .configure(ops::register::<op::SetStatus>)
        .configure(ops::register::<op::Authority>)
        .configure(ops::register::<op::Purge>)
        .configure(ops::register::<op::Note>)
        .configure(ops::register::<op::Expect>)
        .configure(ops::register::<op::Tell>)
        .configure(ops::register::<op::Credit>)
        .configure(ops::register::<op::WithdrawCredit>)
        .configure(ops::register::<op::Publication>)
        .configure(ops::register::<op::Shared>)
        .configure(ops::register::<op::Assign>)
        .configure(ops::register::<op::Report>)
        .configure(ops::register::<op::EnterPhase>)
        .configure(ops::register::<op::Coordinate>)
        .configure(ops::register::<op::Audit>)
        .configure(ops::register::<op::CreateConsoleLink>)
        .configure(ops::register::<op::RenderSecurityTxt>)
        .configure(ops::register::<op::RemoveSecurityTxt>)
        .configure(ops::register::<op::DraftAdvisory>)
        .configure(ops::register::<op::PublishAdvisory>)
        .configure(ops::register::<op::Advisories>)
        .service(
            web::resource(route::SECURITY_TXT)
                .route(ops::route::<op::SecurityTxtStatus>())
                .route(ops::route::<op::InstallSecurityTxt>()),
        )
        .service(web::resource(route::EXPORT).route(get().to(admin::export)))
        .service(web::resource(route::IMPORT).route(post().to(admin::import)))
        .service(web::resource(route::REGISTER).route(get().to(cases::register)))
        .service(
            web::resource(route::INVITES)
                .route(ops::route::<op::Invites>())
                .route(ops::route::<op::CreateInvite>()),
        )
        .service(web::resource(route::METRICS).route(get().to(cases::metrics)))
        .service(
            web::resource(route::KEYS)
                .route(get().to(admin::keys))
                .route(post().to(admin::add_key)),
        )
        .service(web::resource(route::RETIRE).route(post().to(admin::retire_key)))
        .service(web::resource(route::RELOAD).route(post().to(admin::reload)))
        .service(web::resource(route::BACKUP).route(get().to(admin::backup)))
        .service(web::resource(route::HEALTH).route(get().to(admin::health)))
        .service(web::resource(route::RECEIPT_KEYS).route(get().to(admin::receipt_keys)))
        .service(
            web::resource(route::RECEIPT_KEY_ROTATE).route(post().to(admin::rotate_receipt_key)),
        );
}

/// Innermost, so that the security headers and the request log see the rewritten 405.
fn not_allowed<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().handler(StatusCode::METHOD_NOT_ALLOWED, respond::method_not_allowed)
}

fn security_headers(hsts: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CSP))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add(("Cross-Origin-Resource-Policy", "same-origin"))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=(), payment=()",
        ))
        .add((header::CACHE_CONTROL, "no-store"));
    if hsts {
        headers.add((
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        ))
    } else {
        headers
    }
}

/// Logs one line per request: id, method, route pattern (never the raw path), status, declared
/// request size and duration. Never the client's address, never anything the reporter wrote.
fn log_request<S, B>(
    req: actix_web::dev::ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: Service<
            actix_web::dev::ServiceRequest,
            Response = ServiceResponse<B>,
            Error = actix_web::Error,
        >,
{
    let started = Instant::now();
    let id = request_id();
    let method = req.method().clone();
    let route = req.match_pattern().unwrap_or_else(|| "(unmatched)".into());
    let bytes_in: u64 = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or(0);
    let span = tracing::info_span!("request", request_id = %id);
    let fut = tracing::Instrument::instrument(srv.call(req), span.clone());
    let done = async move {
        let mut res = fut.await?;
        let status = res.status().as_u16();
        if let Ok(v) = HeaderValue::from_str(&id) {
            res.headers_mut()
                .insert(header::HeaderName::from_static("x-request-id"), v);
        }
        tracing::info!(
            %method,
            route = %route,
            status,
            bytes_in,
            ms = started.elapsed().as_millis() as u64,
            "request"
        );
        Ok(res)
    };
    tracing::Instrument::instrument(done, span)
}

/// The client's address, for the per-client limits only (never logged): the peer, or what a
/// trusted proxy says in its forwarding header (`clientaddr`).
pub fn client_ip(req: &actix_web::HttpRequest) -> Option<std::net::IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip());
    match req.app_data::<web::Data<Portal>>() {
        Some(p) => {
            let c = p.client_addr();
            let values = req
                .headers()
                .get_all(c.header())
                .filter_map(|v| v.to_str().ok());
            c.resolve(peer, values)
        }
        None => peer,
    }
}

fn request_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut b);
    crate::digest::hex(&b)
}

/// Starts the public and admin listeners (and the console's, when configured) and runs until a
/// shutdown signal. `demo` prints a one-time sign-in link to the console (an admin's).
pub async fn run(portal: Arc<Portal>, demo: bool) -> Result<(), ServeError> {
    let config = portal.config().clone();
    let addr = config.listen_addr().map_err(|e| ServeError::Bind {
        what: "server.listen".into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let tls = config.tls_enabled();
    // Behind a TLS-terminating proxy, `public_url` (always https) says reporters arrive over
    // TLS: they must get HSTS too.
    let hsts = tls || !config.server.public_url.is_empty();
    let certs = admin::Tls(if tls {
        Some(tls::CertStore::load(
            &config.server.tls_cert,
            &config.server.tls_key,
        )?)
    } else {
        None
    });
    let buffer = config.limits.max_part_header_bytes.0 as usize;
    let brand = brand::Brand::load(&config)?;
    let public_portal = Arc::clone(&portal);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::from(Arc::clone(&public_portal)))
            .app_data(web::Data::new(brand.clone()))
            .app_data(actix_multipart::MultipartConfig::default().buffer_limit(buffer))
            .wrap(not_allowed())
            .wrap(security_headers(hsts))
            .wrap_fn(log_request)
            .configure(routes)
            .default_service(web::to(respond::not_found))
    })
    .client_request_timeout(config.limits.request_header_timeout.0)
    .client_disconnect_timeout(Duration::from_secs(5))
    .shutdown_timeout(10);
    let server = if config.server.workers > 0 {
        server.workers(config.server.workers)
    } else {
        server
    };
    let bind_err = |source| ServeError::Bind {
        what: addr.to_string(),
        source,
    };
    let server = if let Some(store) = &certs.0 {
        server
            .bind_rustls_0_23(addr, store.server_config()?)
            .map_err(bind_err)?
    } else {
        server.bind(addr).map_err(bind_err)?
    };
    let scheme = if tls { "https" } else { "http" };
    let bound = server.addrs();

    let socket = config.server.admin_socket.clone();
    let socket_err = |source| ServeError::Bind {
        what: socket.display().to_string(),
        source,
    };
    let folder = match socket.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    crate::store::blobs::create_private_dir(&folder)
        .map_err(|e| socket_err(std::io::Error::other(e.to_string())))?;
    // Whoever can enter the folder could reach the socket: only the owner may.
    if let Some(mode) = crate::os::enterable_by_others(&folder).map_err(socket_err)? {
        return Err(ServeError::SocketFolderOpen { folder, mode });
    }
    let listener = crate::os::bind_private_socket(&socket).map_err(socket_err)?;
    let admin_portal = Arc::clone(&portal);
    let admin_certs = web::Data::new(certs.clone());
    let admin = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::from(Arc::clone(&admin_portal)))
            .app_data(admin_certs.clone())
            .wrap(
                ErrorHandlers::new()
                    .handler(StatusCode::METHOD_NOT_ALLOWED, admin::method_not_allowed),
            )
            .wrap_fn(log_request)
            .configure(admin_routes)
            .default_service(web::to(admin::not_found))
    })
    .workers(1)
    .on_connect(peer::on_connect)
    .shutdown_timeout(5)
    .listen_uds(listener)
    .map_err(socket_err)?;

    let console = console_server(&portal, &config, &certs, hsts)?;
    if demo && console.is_some() {
        let member = crate::console::Member {
            name: "demo".into(),
            role: crate::config::Role::Admin,
        };
        let (url, lasts) = portal.console().create_link(member);
        println!(
            "sealdrop: console sign-in link (once, for {} minutes): {url}",
            lasts.as_secs() / 60
        );
    }
    for a in &bound {
        tracing::info!(url = %format!("{scheme}://{a}/"), "listening");
        println!("sealdrop: listening on {scheme}://{a}/");
    }
    println!("sealdrop: admin socket {}", socket.display());
    spawn_sighup_reload(Arc::clone(&portal), certs);
    spawn_purge(Arc::clone(&portal));
    spawn_upload_expiry(Arc::clone(&portal));
    let console = async move {
        match console {
            Some(server) => server.await,
            None => Ok(()),
        }
    };
    let (public, admin, console) =
        futures_util::future::join3(server.run(), admin.run(), console).await;
    let _ = std::fs::remove_file(&socket);
    public.and(admin).and(console).map_err(ServeError::Run)
}

/// The team's console on a listener of its own (`[console] listen`), if configured: HTTPS with
/// the console's certificate (or the public one), plain HTTP only on loopback. It serves
/// console routes only.
fn console_server(
    portal: &Arc<Portal>,
    config: &crate::config::Config,
    public_certs: &admin::Tls,
    public_hsts: bool,
) -> Result<Option<actix_web::dev::Server>, ServeError> {
    let c = &config.console;
    if !c.enabled() {
        return Ok(None);
    }
    let addr = c.listen_addr().map_err(|e| ServeError::Bind {
        what: "console.listen".into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let certs = if !c.tls_cert.as_os_str().is_empty() {
        Some(tls::CertStore::load(&c.tls_cert, &c.tls_key)?)
    } else {
        public_certs.0.clone()
    };
    let hsts = certs.is_some() || c.public_url.starts_with("https://") || public_hsts;
    let console_portal = Arc::clone(portal);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::from(Arc::clone(&console_portal)))
            .wrap(not_allowed())
            .wrap(security_headers(hsts))
            .wrap_fn(log_request)
            .configure(console::routes)
            .default_service(web::to(console::not_found))
    })
    .workers(2)
    .client_request_timeout(config.limits.request_header_timeout.0)
    .shutdown_timeout(5);
    let bind_err = |source| ServeError::Bind {
        what: format!("console.listen {addr}"),
        source,
    };
    let server = match &certs {
        Some(store) => server
            .bind_rustls_0_23(addr, store.server_config()?)
            .map_err(bind_err)?,
        None => server.bind(addr).map_err(bind_err)?,
    };
    let scheme = if certs.is_some() { "https" } else { "http" };
    for a in server.addrs() {
        let url = format!("{scheme}://{a}");
        portal.console().bound(&c.public_url, url.clone());
        tracing::info!(url = %format!("{url}/"), "console listening");
        println!("sealdrop: console on {url}/");
    }
    Ok(Some(server.run()))
}

/// A reload in which at least one part was refused: what happened to each part, and what to
/// do next, worded for the parts that did take effect.
#[derive(Debug, Clone)]
pub struct ReloadRefused {
    /// One clause per part: "keys: …; TLS: …".
    pub message: String,
    /// What to do next.
    pub hint: String,
    /// Reloaded or refused.
    pub keys: PartState,
    /// Reloaded, refused or not in use.
    pub tls: PartState,
}

/// Reloads the recipients file and the TLS certificate (SIGHUP and `sealdrop keys reload`).
/// Each part that fails keeps its previous state, the other part still takes effect; a refusal
/// says part by part which.
pub fn reload_all(
    portal: &Portal,
    certs: &admin::Tls,
    actor: &crate::record::Actor,
) -> Result<Reloaded, ReloadRefused> {
    let keys = portal.reload_keys_blocking(actor);
    let tls = certs
        .0
        .as_ref()
        .map(|store| store.reload().map_err(|e| e.0));
    if let Some(outcome) = &tls {
        match outcome {
            Ok(()) => tracing::info!("TLS certificate reloaded"),
            Err(e) => {
                tracing::error!(error = %e, "TLS reload refused; the previous certificate stays in force")
            }
        }
        portal.audit_tls(outcome.clone(), actor);
    }
    let tls_state = match &tls {
        None => PartState::NotInUse,
        Some(Ok(())) => PartState::Reloaded,
        Some(Err(_)) => PartState::Refused,
    };
    let (keys_clause, keys_state) = match &keys {
        Ok(report) => (
            format!("keys: reloaded, {} active", report.active.len()),
            PartState::Reloaded,
        ),
        Err(e) => (
            format!("keys: refused, the previous keys stay in force ({e})"),
            PartState::Refused,
        ),
    };
    let tls_clause = match &tls {
        None => "TLS: not in use".to_owned(),
        Some(Ok(())) => "TLS: reloaded, the new certificate is in use".to_owned(),
        Some(Err(e)) => format!("TLS: refused, the previous certificate stays in force ({e})"),
    };
    const AGAIN: &str = "then run `sealdrop keys reload` again";
    let hint = match (&keys, &tls) {
        (Ok(report), None | Some(Ok(()))) => {
            return Ok(Reloaded {
                keys: report.clone(),
                tls: tls_state,
                tls_reloaded: tls_state == PartState::Reloaded,
            });
        }
        (Err(_), Some(Err(_))) => format!(
            "fix the recipients file and the TLS certificate or key named above, {AGAIN}; until \
             then the previous keys and certificate stay in force"
        ),
        (Err(e), _) => {
            let what = e.hint().map(|h| format!(" ({h})")).unwrap_or_default();
            let tls_note = if matches!(tls, Some(Ok(()))) {
                "; the new TLS certificate is already in use"
            } else {
                ""
            };
            format!("fix the recipients file named above{what}, {AGAIN}{tls_note}")
        }
        (Ok(_), Some(Err(_))) => format!(
            "fix the TLS certificate or key named above (server.tls_cert and server.tls_key must \
             be PEM files that belong together), {AGAIN}; the keys were reloaded and are in force"
        ),
    };
    Err(ReloadRefused {
        message: format!("{keys_clause}; {tls_clause}"),
        hint,
        keys: keys_state,
        tls: tls_state,
    })
}

/// Runs the retention purge at start-up and every `retention.purge_interval`.
fn spawn_purge(portal: Arc<Portal>) {
    let every = portal.config().retention.purge_interval.0;
    actix_web::rt::spawn(async move {
        loop {
            match portal.blocking(|p| p.purge_due_blocking()).await {
                Ok(cases) if !cases.is_empty() => {
                    tracing::info!(cases = ?cases, "retention purge deleted closed cases")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "retention purge failed"),
            }
            tokio::time::sleep(every).await;
        }
    });
}

/// Removes expired unfinished resumable uploads every minute (sooner for a shorter
/// `limits.upload_expiry`); start-up recovery removes all of them.
fn spawn_upload_expiry(portal: Arc<Portal>) {
    let every = (portal.config().limits.upload_expiry.0 / 2)
        .clamp(Duration::from_secs(1), Duration::from_secs(60));
    actix_web::rt::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            match portal
                .blocking(|p| {
                    Ok::<_, crate::portal::TaskFailed>(crate::tus::uploads::expire_blocking(p))
                })
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(uploads = n, "expired unfinished uploads removed"),
                Err(e) => tracing::error!(error = %e, "removing expired uploads failed"),
            }
        }
    });
}

fn spawn_sighup_reload(portal: Arc<Portal>, certs: admin::Tls) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGHUP; use `sealdrop keys reload`");
            return;
        }
    };
    actix_web::rt::spawn(async move {
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading keys and TLS certificate");
            let (p, c) = (Arc::clone(&portal), certs.clone());
            let actor = crate::record::Actor::portal();
            let _ = tokio::task::spawn_blocking(move || reload_all(&p, &c, &actor)).await;
        }
    });
}
