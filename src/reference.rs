//! Reporter references (80 random bits, Crockford base32 with a check symbol) and case numbers.
//!
//! The check symbol is a position-weighted sum of the 16 symbols modulo 31, written with the
//! first 31 symbols of the same alphabet: every character of a reference is a letter or a digit,
//! safe to read aloud, paste into an e-mail or a shell. It catches every single substitution
//! except 0↔Z and every swap of two neighbours except 0↔Z (31 ≡ 0).

use crate::digest;
use rand::RngCore;
use std::fmt;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Check symbols: the alphabet without its last symbol (the check is modulo 31, a prime).
const CHECK: &[u8; 31] = b"0123456789ABCDEFGHJKMNPQRSTVWXY";
const BITS: u32 = 80;
const SYMBOLS: usize = 16;

/// A reporter's secret reference, e.g. `K7QD-M2XP-9FHT-3WZA-Q`.
#[derive(Clone, PartialEq, Eq)]
pub struct Reference(u128);

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Reference(…)")
    }
}

/// Why text is not a reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// Wrong number of symbols.
    #[error("a reference has 16 characters plus a check character")]
    Length,
    /// A character outside the alphabet.
    #[error("a reference contains only letters and digits")]
    Symbol,
    /// The check symbol does not match (a typo).
    #[error("the reference has a typo (its check character does not match)")]
    Check,
}

impl Reference {
    /// A new random reference from the OS random source.
    pub fn generate() -> Reference {
        let mut bytes = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut bytes[6..]);
        Reference(u128::from_be_bytes(bytes))
    }

    /// Parses what a person typed: ignores case, dashes and spaces; reads O as 0 and I/L as 1.
    pub fn parse(text: &str) -> Result<Reference, ReferenceError> {
        let mut syms = Vec::with_capacity(SYMBOLS + 1);
        for c in text.chars() {
            if c == '-' || c.is_whitespace() {
                continue;
            }
            if syms.len() > SYMBOLS {
                return Err(ReferenceError::Length);
            }
            syms.push(c.to_ascii_uppercase());
        }
        if syms.len() != SYMBOLS + 1 {
            return Err(ReferenceError::Length);
        }
        let mut value: u128 = 0;
        for &c in &syms[..SYMBOLS] {
            value = (value << 5) | u128::from(digit(c).ok_or(ReferenceError::Symbol)?);
        }
        let check = syms[SYMBOLS];
        let expected = check_symbol(value);
        let given = match check {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if given != expected {
            return Err(
                if CHECK.contains(&(given as u8)) || given.is_ascii_alphanumeric() {
                    ReferenceError::Check
                } else {
                    ReferenceError::Symbol
                },
            );
        }
        Ok(Reference(value))
    }

    /// The canonical 16 symbols without separators or check symbol.
    pub(crate) fn canonical(&self) -> String {
        (0..SYMBOLS)
            .map(|i| {
                let shift = BITS - 5 * (i as u32 + 1);
                ALPHABET[((self.0 >> shift) & 31) as usize] as char
            })
            .collect()
    }

    /// SHA-256 of the canonical form: how cases from before the memory-hard derivation are
    /// found (new cases are stored under [`Derived::lookup`]).
    pub fn legacy_hash(&self) -> [u8; 32] {
        digest::sha256(self.canonical().as_bytes())
    }

    /// What this reference unlocks on a portal whose reference salt is `salt`: Argon2id of the
    /// canonical form, then two independent keys by HKDF. Blocking (milliseconds and
    /// 4 MiB): callers bound how many run at once.
    pub fn derive(&self, salt: &[u8]) -> Derived {
        self.derive_in(salt, &mut digest::Argon2Memory::new())
    }

    /// [`Reference::derive`] in working memory kept by the caller (no allocation).
    pub fn derive_in(&self, salt: &[u8], memory: &mut digest::Argon2Memory) -> Derived {
        let master = digest::argon2id(self.canonical().as_bytes(), salt, memory);
        Derived {
            lookup: digest::hkdf_sha256(b"sealdrop-reference/2", &master, b"lookup"),
            letterbox: digest::hkdf_sha256(b"sealdrop-reference/2", &master, b"letterbox"),
        }
    }
}

/// The keys derived from a reference: the one the case is stored under, and the seed of the
/// reporter's letterbox (never stored). Neither reveals the other.
pub struct Derived {
    /// The key the case is found by (stored).
    pub lookup: [u8; 32],
    /// The seed of the letterbox identity (in memory only).
    pub letterbox: [u8; 32],
}

impl fmt::Debug for Derived {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Derived(…)")
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.canonical();
        write!(
            f,
            "{}-{}-{}-{}-{}",
            &c[0..4],
            &c[4..8],
            &c[8..12],
            &c[12..16],
            check_symbol(self.0)
        )
    }
}

/// The check symbol of a reference's value: Σ (position + 1) · symbol, modulo 31.
fn check_symbol(value: u128) -> char {
    let sum: u32 = (0..SYMBOLS)
        .map(|i| {
            let shift = BITS - 5 * (i as u32 + 1);
            (i as u32 + 1) * ((value >> shift) & 31) as u32
        })
        .sum();
    CHECK[(sum % 31) as usize] as char
}

fn digit(c: char) -> Option<u8> {
    let c = match c {
        'O' => '0',
        'I' | 'L' => '1',
        c => c,
    };
    ALPHABET
        .iter()
        .position(|&a| a as char == c)
        .map(|p| p as u8)
}

/// A case number: `YYYY-NNNN`, sequential per year, not secret.
pub fn case_number(year: i16, seq: u64) -> String {
    format!("{year}-{seq:04}")
}

/// The case number of a follow-up to `case`: `YYYY-NNNN-N` (N from 2: the first part is the
/// case itself).
pub fn addendum_number(case: &str, seq: u64) -> String {
    format!("{case}-{}", seq + 1)
}

/// True for the case numbers this portal generates: `YYYY-NNNN` (four or more digits) with an
/// optional follow-up suffix `-N` (from 2).
pub fn is_case_number(text: &str) -> bool {
    let digits = |s: &str, min: usize| {
        (min..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    let mut parts = text.split('-');
    let (Some(year), Some(seq)) = (parts.next(), parts.next()) else {
        return false;
    };
    let tail_ok = match parts.next() {
        None => true,
        Some(n) => digits(n, 1) && !n.starts_with('0') && n != "1",
    };
    year.len() == 4 && digits(year, 4) && digits(seq, 4) && tail_ok && parts.next().is_none()
}

/// A one-time invitation token: 160 random bits in lower-case Crockford base32 (32 symbols), as
/// it appears in `/u/<token>`. Only its SHA-256 is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct InviteToken(String);

/// Symbols in an invitation token.
const TOKEN_SYMBOLS: usize = 32;

impl InviteToken {
    /// A new random token.
    pub fn generate() -> InviteToken {
        use rand::RngCore;
        let mut bytes = [0u8; 20];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let mut out = String::with_capacity(TOKEN_SYMBOLS);
        let (mut acc, mut bits) = (0u32, 0u32);
        for b in bytes {
            acc = (acc << 8) | u32::from(b);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                out.push((ALPHABET[((acc >> bits) & 31) as usize] as char).to_ascii_lowercase());
            }
        }
        InviteToken(out)
    }

    /// Accepts exactly the shape `generate` makes (any case); anything else is `None`.
    pub fn parse(text: &str) -> Option<InviteToken> {
        let t = text.to_ascii_lowercase();
        (t.len() == TOKEN_SYMBOLS
            && t.bytes()
                .all(|c| ALPHABET.contains(&c.to_ascii_uppercase())))
        .then_some(InviteToken(t))
    }

    /// The token text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the token: the only thing the server stores.
    pub fn hash(&self) -> [u8; 32] {
        digest::sha256(self.0.as_bytes())
    }
}

impl fmt::Debug for InviteToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InviteToken(…)")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn invite_tokens_carry_160_bits_and_parse_back() {
        let t = InviteToken::generate();
        assert_eq!(t.as_str().len(), 32);
        assert_ne!(t, InviteToken::generate());
        let back = InviteToken::parse(&t.as_str().to_ascii_uppercase()).unwrap();
        assert_eq!(back.hash(), t.hash());
        assert!(InviteToken::parse("short").is_none());
        assert!(InviteToken::parse(&"u".repeat(32)).is_none());
    }

    use super::*;

    #[test]
    fn generated_references_round_trip_through_their_text() {
        for _ in 0..200 {
            let r = Reference::generate();
            let text = r.to_string();
            assert_eq!(text.len(), 21);
            assert_eq!(Reference::parse(&text), Ok(r.clone()));
        }
    }

    #[test]
    fn parsing_ignores_case_dashes_spaces_and_confusable_letters() {
        let r = Reference(0x00_0123_4567_89ab_cdef_1011);
        let text = r.to_string();
        let sloppy = text
            .to_lowercase()
            .replace('-', " ")
            .replace('0', "o")
            .replace('1', "l");
        assert_eq!(Reference::parse(&sloppy), Ok(r));
    }

    #[test]
    fn a_single_typo_is_caught_by_the_check_symbol() {
        let r = Reference::generate();
        let text = r.to_string();
        let mut caught = 0;
        for pos in [0usize, 5, 10, 15] {
            let mut chars: Vec<char> = text.chars().collect();
            chars[pos] = if chars[pos] == 'X' { 'Y' } else { 'X' };
            let typo: String = chars.into_iter().collect();
            if Reference::parse(&typo).is_err() {
                caught += 1;
            }
        }
        assert_eq!(caught, 4);
    }

    #[test]
    fn every_character_of_a_reference_is_a_letter_digit_or_dash() {
        for _ in 0..2000 {
            let text = Reference::generate().to_string();
            assert!(
                text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
                "{text}"
            );
        }
    }

    #[test]
    fn neighbours_swapped_are_caught_by_the_check_symbol() {
        let r = Reference(0x00_0123_4567_89ab_cdef_1011);
        let canonical = r.canonical();
        let text = r.to_string();
        let check = text.chars().last().unwrap();
        for i in 0..SYMBOLS - 1 {
            let mut c: Vec<char> = canonical.chars().collect();
            if c[i] == c[i + 1] {
                continue;
            }
            c.swap(i, i + 1);
            let swapped: String = c.into_iter().chain([check]).collect();
            assert_eq!(
                Reference::parse(&swapped),
                Err(ReferenceError::Check),
                "{swapped}"
            );
        }
    }

    #[test]
    fn every_single_substitution_but_zero_for_z_is_caught() {
        let r = Reference::generate();
        let text = r.to_string();
        for pos in (0..20).filter(|p| p % 5 != 4) {
            for &sym in ALPHABET {
                let mut chars: Vec<char> = text.chars().collect();
                let was = chars[pos];
                if was == sym as char || matches!((was, sym), ('0', b'Z') | ('Z', b'0')) {
                    continue;
                }
                chars[pos] = sym as char;
                let typo: String = chars.into_iter().collect();
                assert!(Reference::parse(&typo).is_err(), "{typo}");
            }
        }
    }

    #[test]
    fn wrong_lengths_and_symbols_are_rejected() {
        assert_eq!(Reference::parse("ABCD"), Err(ReferenceError::Length));
        assert_eq!(
            Reference::parse("ABCD-EFGH-JKMN-PQRS-TV"),
            Err(ReferenceError::Length)
        );
        assert_eq!(
            Reference::parse("ABCD-EFGH-JKMN-PQR!-0"),
            Err(ReferenceError::Symbol)
        );
    }

    #[test]
    fn hashes_do_not_depend_on_how_the_reference_was_typed() {
        let r = Reference::generate();
        let again = Reference::parse(&r.to_string().to_lowercase()).unwrap();
        assert_eq!(r.legacy_hash(), again.legacy_hash());
        let salt = b"portal-salt-0123";
        let (a, b) = (r.derive(salt), again.derive(salt));
        assert_eq!((a.lookup, a.letterbox), (b.lookup, b.letterbox));
    }

    #[test]
    fn derived_keys_depend_on_the_portal_salt_and_differ_from_each_other_and_the_old_hash() {
        let r = Reference::generate();
        let a = r.derive(b"portal-salt-aaaa");
        let b = r.derive(b"portal-salt-bbbb");
        assert_ne!(
            a.lookup, b.lookup,
            "another portal's salt gives another key"
        );
        assert_ne!(a.lookup, a.letterbox);
        assert_ne!(a.lookup, r.legacy_hash());
        assert!(!format!("{a:?}").contains(&crate::digest::hex(&a.lookup)));
    }

    #[test]
    fn only_generated_case_numbers_pass_the_check() {
        for good in ["2026-0042", "2026-12345", "2026-0042-2", "2031-0001-17"] {
            assert!(is_case_number(good), "{good}");
        }
        for bad in [
            "",
            "2026",
            "2026-42",
            "26-0042",
            "2026-0042-1",
            "2026-0042-02",
            "2026-0042-2-3",
            "../x",
            "2026-00/2",
            "2026-0042-",
            "2026-0042 ",
        ] {
            assert!(!is_case_number(bad), "{bad}");
        }
    }

    #[test]
    fn case_numbers_are_zero_padded() {
        assert_eq!(case_number(2026, 42), "2026-0042");
        assert_eq!(case_number(2026, 12345), "2026-12345");
    }
}
