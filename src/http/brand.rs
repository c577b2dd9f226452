//! The organisation's look: `/static/brand.css` (the accent colour) and `/static/logo` (the
//! logo file read once at start-up), both under the portal's own CSP.

use crate::config::{Config, ConfigError, Logo};
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use std::sync::Arc;

/// The brand assets of a running server.
#[derive(Clone)]
pub struct Brand {
    css: Arc<str>,
    logo: Option<Arc<Logo>>,
}

impl Brand {
    /// From the (validated) configuration; reads the logo.
    pub fn load(config: &Config) -> Result<Brand, ConfigError> {
        let [r, g, b] = config.branding.accent_rgb()?;
        Ok(Brand {
            css: format!(
                "/* The organisation's accent colour ([branding] accent). */\n\
                 :root {{ --accent: #{r:02x}{g:02x}{b:02x}; }}\n"
            )
            .into(),
            logo: config.branding.logo()?.map(Arc::new),
        })
    }
}

/// `GET /static/brand.css`
pub async fn stylesheet(brand: web::Data<Brand>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(brand.css.to_string())
}

/// `GET /static/logo`: the logo, with a CSP that keeps an SVG from running anything even when
/// opened on its own.
pub async fn logo(brand: web::Data<Brand>) -> HttpResponse {
    match &brand.logo {
        Some(logo) => HttpResponse::Ok()
            .content_type(logo.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; sandbox",
            ))
            .body(logo.bytes.clone()),
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no logo is configured\n"),
    }
}
