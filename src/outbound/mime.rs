//! The mail message itself: headers (RFC 5322, RFC 2047 for the subject), a UTF-8 plain-text
//! body in 7bit or base64, and the address checks that keep line breaks out of headers and SMTP
//! commands.

use super::smtp::{MailError, Message};

/// Longest body line that may be sent as 7bit (RFC 5322 limit without CRLF).
const MAX_BODY_LINE: usize = 998;

/// An address must fit between `<` and `>` in one SMTP command line and in a header.
pub(super) fn check_address(address: &str, field: &'static str) -> Result<(), MailError> {
    let invalid = |reason| {
        Err(MailError::InvalidAddress {
            address: address.to_owned(),
            reason,
        })
    };
    if address.chars().any(char::is_control) {
        return Err(MailError::HeaderInjection { field });
    }
    if !address.is_ascii() {
        return invalid(
            "non-ASCII addresses need SMTPUTF8, which is not supported; write the domain in its xn-- form",
        );
    }
    if address
        .chars()
        .any(|c| c.is_whitespace() || "<>,;\"".contains(c))
    {
        return invalid("it contains spaces, quotes, commas or angle brackets");
    }
    match address.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => Ok(()),
        _ => invalid("it needs the form name@domain"),
    }
}

/// The message as sent after DATA (before dot-stuffing): headers, blank line, body, with CRLF
/// line endings and a final CRLF.
pub(super) fn compose(
    from: &str,
    msg: &Message,
    now: jiff::Timestamp,
    id: [u8; 16],
) -> Result<String, MailError> {
    if msg.to.is_empty() {
        return Err(MailError::NoRecipients);
    }
    if msg.subject.chars().any(|c| c.is_control() && c != '\t') {
        return Err(MailError::HeaderInjection { field: "subject" });
    }
    let domain = from.rsplit_once('@').map_or("localhost", |(_, d)| d);
    let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let (encoding, body) = encode_body(&msg.body);
    let mut out = String::with_capacity(body.len() + 512);
    out.push_str(&format!("From: {from}\r\n"));
    // One recipient per line keeps the header under the line limit however long the list is.
    out.push_str(&format!("To: {}\r\n", msg.to.join(",\r\n ")));
    out.push_str(&format!("Subject: {}\r\n", encode_subject(&msg.subject)));
    out.push_str(&format!(
        "Date: {}\r\n",
        now.strftime("%a, %d %b %Y %H:%M:%S +0000")
    ));
    out.push_str(&format!("Message-ID: <{id}@{domain}>\r\n"));
    out.push_str("MIME-Version: 1.0\r\n");
    out.push_str("Content-Type: text/plain; charset=utf-8\r\n");
    out.push_str(&format!("Content-Transfer-Encoding: {encoding}\r\n\r\n"));
    out.push_str(&body);
    Ok(out)
}

/// A subject as is when it is short ASCII, else as RFC 2047 encoded words, folded.
fn encode_subject(subject: &str) -> String {
    let plain_ok = subject.is_ascii() && !subject.contains("=?") && subject.len() <= 900;
    if plain_ok {
        return subject.to_owned();
    }
    // An encoded word may be at most 75 characters: 45 input bytes give 60 base64 characters
    // plus the 12 of `=?utf-8?B?` and `?=`. Chunks split on character boundaries, as RFC 2047
    // requires.
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in subject.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(format!("=?utf-8?B?{}?=", base64(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() || words.is_empty() {
        words.push(format!("=?utf-8?B?{}?=", base64(chunk.as_bytes())));
    }
    words.join("\r\n ")
}

/// The body with CRLF line endings, as 7bit when it is short-lined ASCII, else base64.
fn encode_body(body: &str) -> (&'static str, String) {
    let lf = body.replace("\r\n", "\n");
    let seven_bit = lf.is_ascii()
        && !lf.contains(['\r', '\0'])
        && lf.split('\n').all(|l| l.len() <= MAX_BODY_LINE);
    let mut crlf = lf.replace('\n', "\r\n");
    if !crlf.ends_with("\r\n") {
        crlf.push_str("\r\n");
    }
    if seven_bit {
        return ("7bit", crlf);
    }
    let encoded = base64(crlf.as_bytes());
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 38);
    // Base64 output is ASCII, so slicing by bytes stays on character boundaries.
    for line in encoded.as_bytes().chunks(76) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push_str("\r\n");
    }
    ("base64", out)
}

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (RFC 4648), enough for AUTH PLAIN and MIME.
pub(super) fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..4 {
            if i <= chunk.len() {
                let sextet = (n >> (18 - 6 * i)) & 63;
                out.push(char::from(BASE64_ALPHABET[sextet as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(subject: &str, body: &str) -> Message {
        Message {
            to: vec!["team@example.org".into()],
            subject: subject.into(),
            body: body.into(),
        }
    }

    fn unbase64(s: &str) -> Vec<u8> {
        let val = |c: u8| BASE64_ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
        let clean: Vec<u8> = s.bytes().filter(|b| !b"\r\n=".contains(b)).collect();
        let mut out = Vec::new();
        for chunk in clean.chunks(4) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0, |n, (i, &c)| n | val(c) << (18 - 6 * i));
            out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
        }
        out
    }

    #[test]
    fn base64_matches_the_rfc_4648_and_rfc_4616_vectors() {
        let vectors: [(&[u8], &str); 8] = [
            (b"", ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"fooba", "Zm9vYmE="),
            (b"foobar", "Zm9vYmFy"),
            (b"\0tim\0tanstaaftanstaaf", "AHRpbQB0YW5zdGFhZnRhbnN0YWFm"),
        ];
        for (input, expected) in vectors {
            assert_eq!(base64(input), expected);
            assert_eq!(unbase64(expected), input);
        }
    }

    #[test]
    fn ascii_subject_is_sent_as_is() {
        assert_eq!(
            encode_subject("New report 2026-0042"),
            "New report 2026-0042"
        );
    }

    #[test]
    fn non_ascii_subject_becomes_one_rfc_2047_encoded_word() {
        let subject = "Zaak 2026-0042 — ontvangen";
        assert_eq!(
            encode_subject(subject),
            format!("=?utf-8?B?{}?=", base64(subject.as_bytes()))
        );
    }

    #[test]
    fn long_non_ascii_subject_is_folded_into_short_words_on_character_boundaries() {
        let subject = "é€😀".repeat(20);
        let encoded = encode_subject(&subject);
        let mut decoded = Vec::new();
        for word in encoded.split("\r\n ") {
            assert!(word.len() <= 75, "{word}");
            let inner = word
                .strip_prefix("=?utf-8?B?")
                .unwrap()
                .strip_suffix("?=")
                .unwrap();
            let bytes = unbase64(inner);
            assert!(
                std::str::from_utf8(&bytes).is_ok(),
                "a word splits a character"
            );
            decoded.extend(bytes);
        }
        assert_eq!(String::from_utf8(decoded).unwrap(), subject);
    }

    #[test]
    fn subject_with_a_line_break_is_refused_as_header_injection() {
        for subject in [
            "Hi\r\nBcc: x@evil.example",
            "Hi\nBcc: x@evil.example",
            "Hi\rX",
        ] {
            let err = compose(
                "sealdrop@portal.example.org",
                &message(subject, "b"),
                jiff::Timestamp::UNIX_EPOCH,
                [0; 16],
            )
            .unwrap_err();
            assert!(
                matches!(err, MailError::HeaderInjection { field: "subject" }),
                "{err}"
            );
        }
    }

    #[test]
    fn odd_addresses_are_refused_with_the_reason() {
        for a in [
            "",
            "nobody",
            "@example.org",
            "a@",
            "a b@example.org",
            "a@exämple.org",
            "<a@b>",
        ] {
            assert!(
                matches!(
                    check_address(a, "recipient address"),
                    Err(MailError::InvalidAddress { .. })
                ),
                "{a:?}"
            );
        }
        check_address("first.last+tag@sub.example.org", "recipient address").unwrap();
    }

    #[test]
    fn composed_message_has_the_agreed_headers() {
        let now: jiff::Timestamp = "2026-03-05T09:07:03Z".parse().unwrap();
        let mut msg = message("Zaak 2026-0042 — ontvangen", "Hello\nteam\n");
        msg.to.push("second@example.org".into());
        let data = compose("sealdrop@portal.example.org", &msg, now, [0xab; 16]).unwrap();
        let (head, body) = data.split_once("\r\n\r\n").unwrap();
        let expected = format!(
            "From: sealdrop@portal.example.org\r\n\
             To: team@example.org,\r\n second@example.org\r\n\
             Subject: =?utf-8?B?{}?=\r\n\
             Date: Thu, 05 Mar 2026 09:07:03 +0000\r\n\
             Message-ID: <{}@portal.example.org>\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             Content-Transfer-Encoding: 7bit",
            base64("Zaak 2026-0042 — ontvangen".as_bytes()),
            "ab".repeat(16)
        );
        assert_eq!(head, expected);
        assert_eq!(body, "Hello\r\nteam\r\n");
    }

    #[test]
    fn ascii_body_goes_as_7bit_with_crlf_and_a_final_line_break() {
        assert_eq!(
            encode_body("a\nb\r\nc"),
            ("7bit", "a\r\nb\r\nc\r\n".to_owned())
        );
    }

    #[test]
    fn non_ascii_or_long_lines_go_as_base64_in_76_character_lines() {
        for body in ["Zaak 2026-0042 — ontvangen\n".repeat(10), "x".repeat(999)] {
            let (encoding, encoded) = encode_body(&body);
            assert_eq!(encoding, "base64");
            assert!(encoded.split("\r\n").all(|l| l.len() <= 76));
            let mut expected = body.replace('\n', "\r\n");
            if !expected.ends_with("\r\n") {
                expected.push_str("\r\n");
            }
            assert_eq!(unbase64(&encoded), expected.as_bytes());
        }
    }
}
