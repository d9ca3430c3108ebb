//! Short text held without an allocation: ids, host names.

use std::fmt;
use std::sync::Arc;

/// Text kept inline when it fits in `N` bytes, as trace ids, span ids, UUIDs and most host names do,
/// so holding it allocates nothing; shared on the heap otherwise.
#[derive(Clone)]
pub(crate) enum SmallText<const N: usize> {
    Inline { len: u8, bytes: [u8; N] },
    Shared(Arc<str>),
}

impl<const N: usize> SmallText<N> {
    pub(crate) fn new(text: &str) -> Self {
        let mut bytes = [0; N];
        match bytes.get_mut(..text.len()) {
            Some(inline) => {
                inline.copy_from_slice(text.as_bytes());
                SmallText::Inline {
                    len: text.len() as u8,
                    bytes,
                }
            }
            None => SmallText::Shared(text.into()),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            SmallText::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            SmallText::Shared(text) => text,
        }
    }
}

impl<const N: usize> fmt::Display for SmallText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<const N: usize> fmt::Debug for SmallText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::SmallText;

    #[test]
    fn short_text_is_inline_and_long_text_shared_both_read_back() {
        for text in [
            "",
            "a",
            "example.com",
            &"x".repeat(8),
            &"y".repeat(9),
            &"é".repeat(5),
        ] {
            let small = SmallText::<8>::new(text);
            assert_eq!(small.as_str(), text);
            assert_eq!(matches!(small, SmallText::Inline { .. }), text.len() <= 8);
        }
    }
}
