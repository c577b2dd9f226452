//! Text made safe for a terminal: what a bundle, a plugin or a reporter says is shown without
//! any escape sequence, hidden or reordered character reaching the screen.

/// Text from a bundle (reporter text, and the case, ids and dates of its index) made safe for
/// a terminal: controls but newline and tab, format characters (bidi overrides, zero-width
/// characters, …) and line separators become U+FFFD, so no escape sequence reaches the
/// terminal and nothing is hidden or reordered.
pub fn terminal_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c != '\n' && c != '\t' && is_terminal_unsafe(c) {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// JSON text (as serde_json writes it) with every character a terminal would act on written as
/// a `\u` escape: the same JSON to a program, nothing hidden or reordered on a screen.
pub fn json_safe(text: &str) -> String {
    let mut safe = String::with_capacity(text.len());
    for c in text.chars() {
        // Outside strings serde_json writes only ASCII; its newlines are layout, not data.
        if c != '\n' && is_terminal_unsafe(c) {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                safe.push_str(&format!("\\u{u:04x}"));
            }
        } else {
            safe.push(c);
        }
    }
    safe
}

/// True for characters that must not reach a terminal: controls (C0, DEL and C1, so every
/// escape sequence loses its introducer), the format characters (bidi overrides and isolates,
/// zero-width characters, the soft hyphen, tag characters, …) and the line and paragraph
/// separators.
pub fn is_terminal_unsafe(c: char) -> bool {
    c.is_control() || is_format(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Unicode general category Cf (format characters), as of Unicode 16.
fn is_format(c: char) -> bool {
    matches!(c,
        '\u{AD}' | '\u{600}'..='\u{605}' | '\u{61C}' | '\u{6DD}' | '\u{70F}'
        | '\u{890}'..='\u{891}' | '\u{8E2}' | '\u{180E}' | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{110BD}' | '\u{110CD}'
        | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}
