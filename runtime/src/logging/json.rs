//! One JSON log line, written straight into a byte buffer: no map, no intermediate `Value`, one pass
//! over the event's fields for its message and one for the rest.

use std::fmt::{self, Write as _};
use std::io::Write as _;

use tracing::field::{Field, Visit};

/// Appends `s` as a JSON string: quoted, with `"`, `\` and control characters escaped.
pub(crate) fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    escape(out, s);
    out.push(b'"');
}

/// Whether `s` goes into a JSON string as it is: one pass without branches.
pub(crate) fn is_plain(s: &[u8]) -> bool {
    s.iter().fold(true, |plain, &b| {
        plain & (b >= 0x20) & (b != b'"') & (b != b'\\')
    })
}

/// Appends `s` escaped for the inside of a JSON string.
fn escape(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    // Most text needs no escape: one pass finds out, then one copy.
    if is_plain(s.as_bytes()) {
        out.extend_from_slice(bytes);
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => &[],
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if short.is_empty() {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]);
        } else {
            out.extend_from_slice(short);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// A `fmt::Write` that escapes what is written into it: `Display` and `Debug` text goes into a JSON
/// string without an intermediate `String`.
struct Escaped<'a>(&'a mut Vec<u8>);

impl fmt::Write for Escaped<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        escape(self.0, s);
        Ok(())
    }
}

/// Appends `value`'s `Display` as a JSON string.
pub(crate) fn display(out: &mut Vec<u8>, value: impl fmt::Display) {
    out.push(b'"');
    // A `Display` that fails leaves what it wrote; the string is closed all the same.
    let _ = write!(Escaped(out), "{value}");
    out.push(b'"');
}

/// The keys every line starts with; an event field of one of these names is left out.
pub(crate) const BUILT_IN: [&str; 9] = [
    "time",
    "level",
    "msg",
    "target",
    "file",
    "line",
    "trace_id",
    "span_id",
    "request_id",
];

/// Writes an event's fields. The first pass ([`Fields::message`]) writes the `message` field's value
/// alone, the second ([`Fields::rest`]) every other field as `,"name":value`, each name once.
pub(crate) struct Fields<'a> {
    out: &'a mut Vec<u8>,
    message_pass: bool,
    /// The message pass wrote a value.
    pub(crate) wrote_message: bool,
    /// Names written so far in the second pass (tracing allows at most 32 fields an event).
    seen: [&'static str; 32],
    seen_len: usize,
}

impl<'a> Fields<'a> {
    /// The first pass: writes the value of the `message` field, if any.
    pub(crate) fn message(out: &'a mut Vec<u8>) -> Self {
        Fields {
            out,
            message_pass: true,
            wrote_message: false,
            seen: [""; 32],
            seen_len: 0,
        }
    }

    /// The second pass: every field but the message and the built-in keys.
    pub(crate) fn rest(out: &'a mut Vec<u8>) -> Self {
        Fields {
            message_pass: false,
            ..Fields::message(out)
        }
    }

    /// Writes the key of `field` and returns true when its value should follow.
    fn key(&mut self, field: &Field) -> bool {
        let name = field.name();
        if self.message_pass {
            if name != "message" || self.wrote_message {
                return false;
            }
            self.wrote_message = true;
            return true;
        }
        if name == "message"
            || BUILT_IN.contains(&name)
            || self.seen[..self.seen_len].contains(&name)
        {
            return false;
        }
        if self.seen_len < self.seen.len() {
            self.seen[self.seen_len] = name;
            self.seen_len += 1;
        }
        self.out.push(b',');
        string(self.out, name);
        self.out.push(b':');
        true
    }
}

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if self.key(field) {
            // Not finite: `null`, as serde_json writes it.
            let _ = serde_json::to_writer(&mut *self.out, &value);
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.key(field) {
            let _ = write!(self.out, "{value}");
        }
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.key(field) {
            let _ = write!(self.out, "{value}");
        }
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.key(field) {
            self.out
                .extend_from_slice(if value { b"true" } else { b"false" });
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.key(field) {
            string(self.out, value);
        }
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.key(field) {
            display(self.out, value);
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.key(field) {
            // `%value` and the message arrive here; their Debug is their Display text.
            display(self.out, format_args!("{value:?}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn strings_round_trip_through_serde_json(text in ".*", control in 0u8..0x20) {
            let text = format!("{text}{}\"\\", char::from(control));
            let mut out = Vec::new();
            string(&mut out, &text);
            let back: String = serde_json::from_slice(&out).unwrap();
            prop_assert_eq!(&back, &text);
            let mut shown = Vec::new();
            display(&mut shown, format_args!("{text:?}"));
            let back: String = serde_json::from_slice(&shown).unwrap();
            prop_assert_eq!(back, format!("{text:?}"));
        }
    }
}
