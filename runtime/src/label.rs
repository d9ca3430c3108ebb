//! Label values.

use std::fmt::{self, Write as _};
use std::ops::Deref;

/// A type whose values can be a metric label value.
///
/// Implemented for `str`, `String`, `bool`, the integer types, [`http::Method`] and [`http::StatusCode`].
/// Values are borrowed or formatted on the stack: reading a label value never allocates.
///
/// # Examples
///
/// Derived for a field-less enum (a closed set), or implemented by hand for a type of yours:
///
/// ```
/// use mvi::{LabelStr, LabelValue};
///
/// /// A tenant id, shown as its name.
/// struct Tenant(&'static str);
///
/// impl LabelValue for Tenant {
///     fn label_value(&self) -> LabelStr<'_> {
///         LabelStr::borrowed(self.0)
///     }
/// }
///
/// #[mvi::observe(labels(tenant = tenant))]
/// fn bill(tenant: Tenant) -> bool {
///     !tenant.0.is_empty()
/// }
///
/// assert!(bill(Tenant("acme")));
/// assert_eq!(&*42u16.label_value(), "42");
/// assert_eq!(bool::VALUES, Some(&["false", "true"][..]));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a label value",
    label = "`{Self}` does not implement `mvi::LabelValue`",
    note = "label values are strings, `bool`, integers, `http::Method`, `http::StatusCode`, or a field-less enum with `#[derive(mvi::LabelValue)]`"
)]
pub trait LabelValue {
    /// Every value this type can take, when the set is closed and known at compile time (field-less
    /// enums deriving `LabelValue`, `bool`); `None` for open types like `String`.
    const VALUES: Option<&'static [&'static str]> = None;

    /// The value as it appears in the exposition.
    ///
    /// # Examples
    ///
    /// ```
    /// use mvi::LabelValue;
    ///
    /// assert_eq!(&*"eu".label_value(), "eu");
    /// assert_eq!(&*(-7i64).label_value(), "-7");
    /// assert_eq!(&*http::StatusCode::NOT_FOUND.label_value(), "404");
    /// ```
    fn label_value(&self) -> LabelStr<'_>;

    /// The position of this value in [`VALUES`](LabelValue::VALUES); only called when that is `Some`.
    ///
    /// # Examples
    ///
    /// ```
    /// use mvi::LabelValue;
    ///
    /// #[derive(mvi::LabelValue)]
    /// enum Tier { Free, Pro }
    ///
    /// assert_eq!((Tier::Free.label_index(), Tier::Pro.label_index()), (0, 1));
    /// assert_eq!(Tier::VALUES.unwrap()[Tier::Pro.label_index()], "pro");
    /// ```
    fn label_index(&self) -> usize {
        0
    }
}

/// A typed set of labels: a struct deriving [`Labels`](macro@crate::Labels), used as
/// `#[observe(labels = arg)]`.
///
/// When every field's type has a closed set of values the call site keeps its handles in a table
/// indexed by [`index`](Labels::index): no hashing and no allocation per call.
///
/// # Examples
///
/// ```
/// use mvi::Labels;
///
/// #[derive(mvi::LabelValue)]
/// enum Region { Eu, Us }
///
/// #[derive(mvi::Labels)]
/// struct Shipment { region: Region, express: bool }
///
/// assert_eq!(Shipment::NAMES, ["region", "express"]);
/// assert_eq!(Shipment { region: Region::Eu, express: true }.index(), 1);
/// let labels = Shipment { region: Region::Us, express: true };
/// assert_eq!(labels.index(), 3); // row-major over [eu, us] x [false, true]
/// labels.with_values(|values| assert_eq!(values, ["us", "true"]));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a label set",
    label = "`{Self}` does not implement `mvi::Labels`",
    note = "`labels = arg` takes a struct with named fields and `#[derive(mvi::Labels)]`; for single values write `labels(key = expr)`"
)]
pub trait Labels {
    /// Label names, in field order.
    const NAMES: &'static [&'static str];
    /// Each label's closed value set, or `None` where it is open.
    const VALUES: &'static [Option<&'static [&'static str]>];

    /// The position of this label set in the table of every combination (row-major over `VALUES`);
    /// only called when every entry of `VALUES` is `Some`.
    ///
    /// # Examples
    ///
    /// ```
    /// use mvi::Labels;
    ///
    /// #[derive(mvi::LabelValue)]
    /// enum Region { Eu, Us }
    ///
    /// #[derive(mvi::Labels)]
    /// struct Shipment { region: Region, express: bool }
    ///
    /// assert_eq!(Shipment { region: Region::Eu, express: true }.index(), 1);
    /// assert_eq!(Shipment { region: Region::Us, express: false }.index(), 2);
    /// ```
    fn index(&self) -> usize;

    /// Calls `f` with the label values in `NAMES` order.
    ///
    /// # Examples
    ///
    /// ```
    /// use mvi::Labels;
    ///
    /// #[derive(mvi::Labels)]
    /// struct Request { tenant: String, attempt: u8 }
    ///
    /// let request = Request { tenant: "acme".into(), attempt: 2 };
    /// let shown = request.with_values(|values| values.join(","));
    /// assert_eq!(shown, "acme,2");
    /// ```
    fn with_values<R>(&self, f: impl FnOnce(&[&str]) -> R) -> R;
}

/// The number of combinations of a closed label set, or `None` when a label is open.
pub(crate) const fn combinations(values: &[Option<&'static [&'static str]>]) -> Option<usize> {
    let mut product = 1usize;
    let mut i = 0;
    while i < values.len() {
        match values[i] {
            Some(v) => product = product.saturating_mul(v.len()),
            None => return None,
        }
        i += 1;
    }
    Some(product)
}

impl<T: Labels + ?Sized> Labels for &T {
    const NAMES: &'static [&'static str] = T::NAMES;
    const VALUES: &'static [Option<&'static [&'static str]>] = T::VALUES;

    fn index(&self) -> usize {
        (**self).index()
    }

    fn with_values<R>(&self, f: impl FnOnce(&[&str]) -> R) -> R {
        (**self).with_values(f)
    }
}

/// `labels(a = x, b = y)`: a tuple of label values, names given by the macro.
macro_rules! tuple_labels {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: LabelValue + ?Sized),+> Labels for ($(&$name,)+) {
            const NAMES: &'static [&'static str] = &[];
            const VALUES: &'static [Option<&'static [&'static str]>] = &[$($name::VALUES),+];

            #[inline]
            fn index(&self) -> usize {
                let mut index = 0;
                $(
                    index = index * $name::VALUES.map_or(1, <[_]>::len) + self.$idx.label_index();
                )+
                index
            }

            #[inline]
            fn with_values<R>(&self, f: impl FnOnce(&[&str]) -> R) -> R {
                f(&[$(&*self.$idx.label_value()),+])
            }
        }
    };
}
tuple_labels!(A 0);
tuple_labels!(A 0, B 1);
tuple_labels!(A 0, B 1, C 2);
tuple_labels!(A 0, B 1, C 2, D 3);
tuple_labels!(A 0, B 1, C 2, D 3, E 4);
tuple_labels!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_labels!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_labels!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

/// A label value: borrowed, or formatted into an inline buffer (integers). Dereferences to `str`.
///
/// # Examples
///
/// ```
/// use mvi::LabelValue;
///
/// let value: mvi::LabelStr<'_> = 1234u32.label_value(); // formatted on the stack
/// assert_eq!(&*value, "1234");
/// assert_eq!(value.len(), 4); // a `str` by `Deref`
/// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// let value = mvi::LabelStr::borrowed("eu");
    /// assert_eq!(&*value, "eu");
    /// ```
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
    const VALUES: Option<&'static [&'static str]> = T::VALUES;

    fn label_value(&self) -> LabelStr<'_> {
        (**self).label_value()
    }

    fn label_index(&self) -> usize {
        (**self).label_index()
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
    const VALUES: Option<&'static [&'static str]> = Some(&["false", "true"]);

    fn label_value(&self) -> LabelStr<'_> {
        LabelStr::borrowed(if *self { "true" } else { "false" })
    }

    fn label_index(&self) -> usize {
        usize::from(*self)
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

/// The key of metric `name` with these label names and values, in order.
pub(crate) fn key(name: &'static str, names: &[&'static str], values: &[&str]) -> metrics::Key {
    let labels = names
        .iter()
        .zip(values)
        .map(|(k, v)| metrics::Label::new(*k, v.to_string()))
        .collect::<Vec<_>>();
    metrics::Key::from_parts(name, labels)
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

    #[test]
    fn tuples_index_row_major() {
        let set = (&true, &"x", &false);
        assert_eq!(<(&bool, &&str, &bool) as Labels>::VALUES.len(), 3);
        assert_eq!(combinations(<(&bool, &bool) as Labels>::VALUES), Some(4));
        assert_eq!(combinations(<(&bool, &&str) as Labels>::VALUES), None);
        assert_eq!((&true, &false).index(), 2);
        assert_eq!((&true, &true).index(), 3);
        set.with_values(|v| assert_eq!(v, ["true", "x", "false"]));
    }
}
