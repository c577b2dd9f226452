//! An error with its causes, on one line: a TLS or connection failure often says why only in
//! its source. For logs and the operator's messages, never for a client.

/// `e` and each of its sources not already in the text, joined with `: `.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}
