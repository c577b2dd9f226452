//! `sealdrop admin shared` and `sealdrop admin receipt-key`: recording that a case was passed
//! on, and the receipt keys (print, rotate).

use super::{Failure, out, print_json};
use crate::adminapi::op;
use crate::adminapi::{ReceiptKeys, ReloadRequest, SharedRequest, route};
use crate::adminclient;
use std::path::Path;

/// `admin shared CASE --with WHOM [--note TEXT]`.
pub fn shared(
    socket: &Path,
    case: &str,
    with: String,
    note: Option<String>,
) -> Result<(), Failure> {
    let v = super::on_case::<op::Shared>(socket, case, &SharedRequest { with, note })?;
    let last = v.record.history.last().and_then(|h| h.shared_with.clone());
    out(&format!(
        "Case {case}: shared with {} recorded (history, `admin show`, the register).\n",
        last.unwrap_or_default()
    ));
    Ok(())
}

/// `admin receipt-key [--rotate] [--json]`.
pub fn receipt_key(socket: &Path, rotate: bool, json: bool) -> Result<(), Failure> {
    let keys: ReceiptKeys = if rotate {
        adminclient::post_json(socket, route::RECEIPT_KEY_ROTATE, &ReloadRequest {})?
    } else {
        adminclient::get_json(socket, route::RECEIPT_KEYS)?
    };
    if json {
        print_json(&keys);
    } else {
        if rotate {
            let new = keys.keys.last().map(|k| k.fingerprint.as_str());
            eprintln!(
                "Receipt key rotated: {} signs from now on; earlier receipts keep verifying.",
                new.unwrap_or("?")
            );
        }
        out(&keys.allowed_signers);
    }
    Ok(())
}
