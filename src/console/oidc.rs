//! Sign-in with the organisation's identity provider: OpenID Connect's authorization code flow
//! with PKCE (S256), `state` and `nonce`, the provider found by discovery, and every check of the
//! ID token (signature against the provider's published keys, issuer, audience, expiry, nonce)
//! done by `openidconnect`. Its HTTP calls go through our ureq (rustls with ring, the system's
//! roots, no redirects followed), on the blocking pool. The one module that uses openidconnect.

use super::{Member, SignInError, member_of};
use crate::config::Console as ConsoleConfig;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreClientAuthMethod, CoreProviderMetadata,
};
use openidconnect::{
    AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse,
};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A client made from discovered metadata: authorization and token endpoints set, user info
/// maybe.
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// How long discovered metadata (with the provider's keys) is used before it is fetched again.
const METADATA_TTL: Duration = Duration::from_secs(15 * 60);

/// Most bytes read from one answer of the provider.
const MAX_ANSWER: u64 = 1 << 20;

/// What the console takes from a verified ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// `sub`.
    pub subject: String,
    /// `email`, if given.
    pub email: Option<String>,
    /// `email_verified`, if given.
    pub email_verified: Option<bool>,
    /// The values of the configured group claim.
    pub groups: Vec<String>,
}

/// A sign-in leaving for the provider.
pub struct Start {
    /// Where to send the browser.
    pub url: String,
    /// The `state` sent along.
    pub state: String,
    /// The `nonce` sent along.
    pub nonce: String,
    /// The PKCE verifier kept back.
    pub verifier: String,
}

/// One configured provider.
pub struct Provider {
    config: ConsoleConfig,
    agent: ureq::Agent,
    metadata: Mutex<Option<(Arc<CoreProviderMetadata>, Instant)>>,
}

impl Provider {
    /// The provider of `config`.
    pub fn new(config: &ConsoleConfig) -> Provider {
        let mut builder = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(15)))
            .max_redirects(0)
            .http_status_as_error(false)
            .user_agent("sealdrop");
        if config.oidc_issuer.starts_with("https://") {
            let roots = crate::outbound::webhook::trust_roots(None).unwrap_or_default();
            builder = builder.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots)))
                    .build(),
            );
        }
        Provider {
            config: config.clone(),
            agent: builder.build().into(),
            metadata: Mutex::new(None),
        }
    }

    fn http(
        &self,
        request: openidconnect::HttpRequest,
    ) -> Result<openidconnect::HttpResponse, HttpFailed> {
        let (parts, body) = request.into_parts();
        let request = openidconnect::http::Request::from_parts(parts, body);
        let response = self.agent.run(request).map_err(|e| HttpFailed(short(&e)))?;
        let (parts, mut body) = response.into_parts();
        let bytes = body
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_vec()
            .map_err(|e| HttpFailed(short(&e)))?;
        Ok(openidconnect::http::Response::from_parts(parts, bytes))
    }

    /// The provider's metadata and keys: discovered, then kept for a while (`fresh` fetches
    /// again, for a key the provider has just rotated in).
    fn metadata(&self, fresh: bool) -> Result<Arc<CoreProviderMetadata>, SignInError> {
        let mut cached = self.metadata.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((m, at)) = cached.as_ref()
            && !fresh
            && at.elapsed() < METADATA_TTL
        {
            return Ok(Arc::clone(m));
        }
        let issuer = IssuerUrl::new(self.config.oidc_issuer.clone())
            .map_err(|e| SignInError::Unavailable(format!("console.oidc_issuer: {e}")))?;
        let http = |r| self.http(r);
        let m = CoreProviderMetadata::discover(&issuer, &http).map_err(|e| {
            SignInError::Unavailable(format!("discovery failed: {}", crate::causes::chain(&e)))
        })?;
        let m = Arc::new(m);
        *cached = Some((Arc::clone(&m), Instant::now()));
        Ok(m)
    }

    fn secret(&self) -> Result<ClientSecret, SignInError> {
        self.config
            .client_secret()
            .map(|s| ClientSecret::new(s.0))
            .map_err(|e| SignInError::Unavailable(e.to_string()))
    }

    /// The client of `metadata`, coming back to `redirect`.
    fn client(
        &self,
        metadata: &CoreProviderMetadata,
        redirect: &str,
    ) -> Result<Client, SignInError> {
        let redirect = RedirectUrl::new(redirect.to_owned())
            .map_err(|e| SignInError::Unavailable(format!("console.public_url: {e}")))?;
        // The secret in the body where the provider takes it there: Basic authentication
        // form-encodes it first, which not every provider undoes (a `~` in an Entra secret).
        let post = metadata
            .token_endpoint_auth_methods_supported()
            .is_some_and(|m| m.contains(&CoreClientAuthMethod::ClientSecretPost));
        let auth = if post {
            AuthType::RequestBody
        } else {
            AuthType::BasicAuth
        };
        Ok(CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.config.oidc_client_id.clone()),
            Some(self.secret()?),
        )
        .set_auth_type(auth)
        .set_redirect_uri(redirect))
    }

    /// Starts a sign-in that comes back to `redirect` (blocking).
    pub fn begin(&self, redirect: &str) -> Result<Start, SignInError> {
        let client = self.client(&*self.metadata(false)?, redirect)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in &self.config.oidc_scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        Ok(Start {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the code, checks the ID token and answers the member it names (blocking).
    pub fn finish(
        &self,
        redirect: &str,
        code: &str,
        nonce: &str,
        verifier: &str,
    ) -> Result<Member, SignInError> {
        let client = self.client(&*self.metadata(false)?, redirect)?;
        let http = |r| self.http(r);
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| SignInError::Unavailable(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()))
            .request(&http)
            .map_err(|e| SignInError::Provider(crate::causes::chain(&e)))?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| SignInError::Token("the answer holds no ID token".into()))?;
        let nonce = Nonce::new(nonce.to_owned());
        let verified = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Ok(c) => c.clone(),
            Err(first) => {
                // A key the provider rotated in since discovery: look once more.
                let client = self.client(&*self.metadata(true)?, redirect)?;
                match id_token.claims(&client.id_token_verifier(), &nonce) {
                    Ok(c) => c.clone(),
                    Err(_) => return Err(SignInError::Token(crate::causes::chain(&first))),
                }
            }
        };
        let groups = group_claim(&id_token.to_string(), &self.config.oidc_group_claim);
        let claims = Claims {
            subject: verified.subject().as_str().to_owned(),
            email: verified.email().map(|e| e.as_str().to_owned()),
            email_verified: verified.email_verified(),
            groups,
        };
        member_of(&self.config, &claims)
    }
}

/// The values of claim `name` in a JWT whose signature has been checked already: a list of
/// strings or one string (providers do both); anything else is no group.
fn group_claim(jwt: &str, name: &str) -> Vec<String> {
    use base64::Engine;
    let Some(payload) = jwt.split('.').nth(1) else {
        return Vec::new();
    };
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload) else {
        return Vec::new();
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Vec::new();
    };
    match &value[name] {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// A failed HTTP exchange with the provider (no URL, no body).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct HttpFailed(String);

fn short(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) => io.kind().to_string(),
        ureq::Error::HostNotFound => "the host name does not resolve".into(),
        ureq::Error::Timeout(_) => "no answer in time".into(),
        ureq::Error::Tls(t) => format!("TLS: {t}"),
        ureq::Error::Rustls(t) => format!("TLS: {t}"),
        ureq::Error::BodyExceedsLimit(_) => "the answer is too large".into(),
        _ => "the request failed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_come_as_a_list_or_one_string() {
        use base64::Engine;
        let jwt = |claims: &str| {
            format!(
                "x.{}.y",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims)
            )
        };
        assert_eq!(
            group_claim(&jwt(r#"{"groups":["a","b",3]}"#), "groups"),
            ["a", "b"]
        );
        assert_eq!(group_claim(&jwt(r#"{"roles":"sec"}"#), "roles"), ["sec"]);
        assert!(group_claim(&jwt(r#"{"groups":{"a":1}}"#), "groups").is_empty());
        assert!(group_claim("garbage", "groups").is_empty());
    }
}
