//! Label values.

use std::fmt::{self, Write as _};
use std::ops::Deref;

/// A type whose values can be a metric label value.
///
/// Implemented for `str`, `String`, `bool`, the integer types, [`http::Method`] and [`http::StatusCode`].
/// Values are borrowed or formatted on the stack: reading a label value never allocates.
pub trait LabelValue {
    /// The value as it appears in the exposition.
    fn label_value(&self) -> LabelStr<'_>;
}

/// A label value: borrowed, or formatted into an inline buffer (integers). Dereferences to `str`.
#[derive(Clone, Copy)]
pub struct LabelStr<'a>(Repr<'a>);

#[derive(Clone, Copy)]
enum Repr<'a> {
    Borrowed(&'a str),
    Inline { buf: [u8; INLINE], len: u8 },
}

/// Room for the longest integer (`i128::MIN` has 40 characters).
const INLINE: usize = 40;

impl<'a> LabelStr<'a> {
    /// A borrowed value.
    pub const fn borrowed(s: &'a str) -> Self {
        LabelStr(Repr::Borrowed(s))
    }

    fn format(args: fmt::Arguments<'_>) -> Self {
        struct Buf {
            buf: [u8; INLINE],
            len: usize,
        }
        impl fmt::Write for Buf {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                let end = self.len + s.len();
                self.buf
                    .get_mut(self.len..end)
                    .ok_or(fmt::Error)?
                    .copy_from_slice(s.as_bytes());
                self.len = end;
                Ok(())
            }
        }
        let mut b = Buf {
            buf: [0; INLINE],
            len: 0,
        };
        // Only integers are formatted here, and every integer fits.
        let _ = b.write_fmt(args);
        LabelStr(Repr::Inline {
            buf: b.buf,
            len: b.len as u8,
        })
    }
}

impl Deref for LabelStr<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        match &self.0 {
            Repr::Borrowed(s) => s,
            // Only whole `str` writes fill the buffer, so it is valid UTF-8 up to `len`.
            Repr::Inline { buf, len } => {
                std::str::from_utf8(&buf[..usize::from(*len)]).unwrap_or_default()
            }
        }
    }
}

impl fmt::Debug for LabelStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: LabelValue + ?Sized> LabelValue for &T {
    fn label_value(&self) -> LabelStr<'_> {
        (**self).label_value()
    }
}

impl LabelValue for str {
    fn label_value(&self) -> LabelStr<'_> {
        LabelStr::borrowed(self)
    }
}

impl LabelValue for String {
    fn label_value(&self) -> LabelStr<'_> {
        LabelStr::borrowed(self)
    }
}

impl LabelValue for std::borrow::Cow<'_, str> {
    fn label_value(&self) -> LabelStr<'_> {
        LabelStr::borrowed(self)
    }
}

impl LabelValue for bool {
    fn label_value(&self) -> LabelStr<'_> {
        LabelStr::borrowed(if *self { "true" } else { "false" })
    }
}

macro_rules! integers {
    ($($t:ty)*) => {$(
        impl LabelValue for $t {
            fn label_value(&self) -> LabelStr<'_> {
                LabelStr::format(format_args!("{self}"))
            }
        }
    )*};
}
integers!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize);

impl LabelValue for http::Method {
    fn label_value(&self) -> LabelStr<'_> {
        LabelStr::borrowed(self.as_str())
    }
}

impl LabelValue for http::StatusCode {
    fn label_value(&self) -> LabelStr<'_> {
        LabelStr::borrowed(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(
            &*i128::MIN.label_value(),
            "-170141183460469231731687303715884105728"
        );
        assert_eq!(&*42u8.label_value(), "42");
        assert_eq!(&*true.label_value(), "true");
        assert_eq!(&*"eu".label_value(), "eu");
        assert_eq!(&*String::from("us").label_value(), "us");
        assert_eq!(&*http::StatusCode::NOT_FOUND.label_value(), "404");
        assert_eq!(&*http::Method::PATCH.label_value(), "PATCH");
    }
}
