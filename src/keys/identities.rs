//! The team's identities for the offline commands (`open`, `rekey`, `share`): age identity
//! files, a hardware key's plugin identity (`AGE-PLUGIN-…`) and unencrypted SSH keys. The
//! server never loads one.

use super::KeyError;
use std::path::PathBuf;

/// What an age plugin (a hardware key) says and asks, on the controlling terminal: "touch
/// your key", a PIN (not echoed), a yes or no. Used on the team's machine only: the server
/// never loads an identity.
#[derive(Clone, Copy)]
struct TerminalPrompts;

impl age::Callbacks for TerminalPrompts {
    fn display_message(&self, message: &str) {
        eprintln!("{}", crate::terminal::terminal_safe(message));
    }

    fn confirm(&self, message: &str, yes: &str, no: Option<&str>) -> Option<bool> {
        let choices = match no {
            Some(no) => format!("[{yes}/{no}]"),
            None => format!("[{yes}]"),
        };
        let choices = crate::terminal::terminal_safe(&choices);
        let question = format!("{} {choices}", crate::terminal::terminal_safe(message));
        let answer = crate::os::ask_terminal(&question, true)?;
        Some(answer.trim().eq_ignore_ascii_case(yes) || (no.is_none() && answer.is_empty()))
    }

    fn request_public_string(&self, description: &str) -> Option<String> {
        crate::os::ask_terminal(&crate::terminal::terminal_safe(description), true)
    }

    fn request_passphrase(&self, description: &str) -> Option<age::secrecy::SecretString> {
        crate::os::ask_terminal(&crate::terminal::terminal_safe(description), false).map(Into::into)
    }
}

/// Identities read from age identity files (X25519, or a plugin's: a key on hardware) or
/// unencrypted SSH private keys.
pub struct Identities(Vec<Box<dyn age::Identity + Send + Sync>>);

impl Identities {
    /// Reads every file; each must hold at least one identity.
    pub fn load(paths: &[PathBuf]) -> Result<Identities, KeyError> {
        let mut all = Vec::new();
        for path in paths {
            let bad = |problem: String| KeyError::Identity {
                path: path.clone(),
                problem,
            };
            let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
            if text.contains("-----BEGIN OPENSSH PRIVATE KEY-----")
                || text.contains("-----BEGIN RSA PRIVATE KEY-----")
            {
                let id = age::ssh::Identity::from_buffer(text.as_bytes(), None)
                    .map_err(|e| bad(e.to_string()))?;
                match id {
                    age::ssh::Identity::Unencrypted(_) => all.push(Box::new(id) as _),
                    _ => return Err(bad("encrypted or unsupported SSH key".into())),
                }
                continue;
            }
            let file =
                age::IdentityFile::from_buffer(text.as_bytes()).map_err(|e| bad(e.to_string()))?;
            // Plugin identities (`AGE-PLUGIN-…`: a YubiKey through age-plugin-yubikey) start
            // their plugin program when a file is opened; its questions go to the terminal.
            let ids = file
                .with_callbacks(TerminalPrompts)
                .into_identities()
                .map_err(|e| bad(e.to_string().trim_end().replace('\n', " ")))?;
            if ids.is_empty() {
                return Err(bad("it holds no identity".into()));
            }
            all.extend(ids);
        }
        if all.is_empty() {
            return Err(KeyError::Identity {
                path: PathBuf::from("(none)"),
                problem: "no identity file given".into(),
            });
        }
        Ok(Identities(all))
    }

    /// The identities as age wants them.
    pub fn iter(&self) -> impl Iterator<Item = &dyn age::Identity> {
        self.0.iter().map(|i| i.as_ref() as &dyn age::Identity)
    }
}
