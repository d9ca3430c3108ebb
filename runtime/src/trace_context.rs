//! W3C Trace Context (`traceparent`, `tracestate`), parsed strictly.
//!
//! The rules are those of the W3C Trace Context recommendation (Level 2): for version `00` the header is
//! exactly 55 characters, `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, lowercase hex only,
//! neither id all zeros; version `ff` is invalid; a higher version is parsed best-effort from its first
//! 55 characters, which must be followed by nothing or by `-`. Flags are kept as sent, including the
//! Level 2 random-trace-id bit (`0x02`). Anything else is ignored and a new trace starts.

use std::cell::RefCell;
use std::fmt;

use http::{HeaderMap, HeaderName, HeaderValue};
use rand::rngs::SmallRng;
use rand::{RngCore as _, SeedableRng as _};

/// Length of a version-00 `traceparent`.
pub(crate) const LEN: usize = 55;

/// The sampled flag.
///
/// # Examples
///
/// ```
/// use mvi::trace_context::{FLAG_SAMPLED, parse_traceparent};
///
/// let parent = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".as_bytes()).unwrap();
/// assert_eq!(parent.flags & FLAG_SAMPLED, FLAG_SAMPLED);
/// ```
pub const FLAG_SAMPLED: u8 = 0x01;
/// Level 2: the trace id was generated at random.
///
/// # Examples
///
/// ```
/// use mvi::trace_context::{FLAG_RANDOM, parse_traceparent};
///
/// let parent = parse_traceparent(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03").unwrap();
/// assert_eq!(parent.flags & FLAG_RANDOM, FLAG_RANDOM); // kept, as W3C Level 2 asks
/// ```
pub const FLAG_RANDOM: u8 = 0x02;

/// A 16-byte trace id, rendered as 32 lowercase hex digits.
///
/// # Examples
///
/// ```
/// use mvi::trace_context::TraceId;
///
/// let id = TraceId(0x4bf92f3577b34da6a3ce929d0e0e4736);
/// assert_eq!(id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert_eq!(format!("{:?}", TraceId(1)), "TraceId(00000000000000000000000000000001)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceId(pub u128);

/// An 8-byte span id, rendered as 16 lowercase hex digits.
///
/// # Examples
///
/// ```
/// use mvi::trace_context::SpanId;
///
/// assert_eq!(SpanId(0xf067aa0ba902b7).to_string(), "00f067aa0ba902b7");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpanId(pub u64);

/// Lowercase hex digits of `value` into all of `out` (at most 32), the last digit the lowest: eight
/// digits at a time in a `u64`, since ids are written on the path of every request, where `{:032x}`
/// costs more than the rest.
pub(crate) fn write_hex(out: &mut [u8], value: u128) {
    let mut rest = value;
    for chunk in out.rchunks_mut(8) {
        let digits = hex8(rest as u32);
        chunk.copy_from_slice(&digits[8 - chunk.len()..]);
        rest >>= 32;
    }
}

/// The 8 lowercase hex digits of `value`, without a branch or a table: each nibble spread into a byte of
/// its own, then `'0'` added, and `'a' - '0' - 10` more where the nibble is 10 or above.
fn hex8(value: u32) -> [u8; 8] {
    let mut v = u64::from(value);
    v = (v | v << 16) & 0x0000_ffff_0000_ffff;
    v = (v | v << 8) & 0x00ff_00ff_00ff_00ff;
    v = (v | v << 4) & 0x0f0f_0f0f_0f0f_0f0f;
    // Byte k now holds nibble k (the lowest first); no byte exceeds 15, so no sum below carries.
    let letters = ((v + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
    (v + 0x3030_3030_3030_3030 + letters * 39).to_be_bytes()
}

/// `value` as `DIGITS` lowercase hex digits, zero-padded.
fn fmt_hex<const DIGITS: usize>(f: &mut fmt::Formatter<'_>, value: u128) -> fmt::Result {
    let mut digits = [0u8; DIGITS];
    write_hex(&mut digits, value);
    f.write_str(std::str::from_utf8(&digits).map_err(|_| fmt::Error)?)
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_hex::<32>(f, self.0)
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_hex::<16>(f, u128::from(self.0))
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

thread_local! {
    /// The generator of ids, one per thread, seeded from the operating system's: ids need to be
    /// unpredictable enough not to collide (W3C asks for at least 56 random bits), not secret, and
    /// they are drawn for every request and span.
    static IDS: RefCell<SmallRng> = RefCell::new(SmallRng::from_os_rng());
}

/// 64 random bits from this thread's generator of ids.
pub(crate) fn random_u64() -> u64 {
    IDS.with(|rng| rng.borrow_mut().next_u64())
}

/// 128 random bits from this thread's generator of ids.
pub(crate) fn random_u128() -> u128 {
    u128::from(random_u64()) << 64 | u128::from(random_u64())
}

impl TraceId {
    /// A random, non-zero trace id.
    ///
    /// # Examples
    ///
    /// ```
    /// let id = mvi::trace_context::TraceId::random();
    /// assert_ne!(id.0, 0);
    /// assert_eq!(id.to_string().len(), 32);
    /// ```
    pub fn random() -> TraceId {
        loop {
            let id = random_u128();
            if id != 0 {
                return TraceId(id);
            }
        }
    }
}

impl SpanId {
    /// A random, non-zero span id.
    ///
    /// # Examples
    ///
    /// ```
    /// let id = mvi::trace_context::SpanId::random();
    /// assert_ne!(id.0, 0);
    /// assert_eq!(id.to_string().len(), 16);
    /// ```
    pub fn random() -> SpanId {
        loop {
            let id = random_u64();
            if id != 0 {
                return SpanId(id);
            }
        }
    }
}

/// A valid `traceparent`.
///
/// # Examples
///
/// ```
/// use mvi::trace_context::{TraceParent, parse_traceparent};
///
/// let parent: TraceParent = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".as_bytes()).unwrap();
/// assert_eq!(parent.version, 0);
/// assert_eq!(parent.parent_id.to_string(), "00f067aa0ba902b7");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceParent {
    /// The version the caller sent (`0x00` to `0xfe`).
    pub version: u8,
    /// The trace id.
    pub trace_id: TraceId,
    /// The caller's span id.
    pub parent_id: SpanId,
    /// The trace flags as sent.
    pub flags: u8,
}

impl TraceParent {
    /// The header value for a child of this trace with span id `span_id` (always version `00`).
    ///
    /// # Examples
    ///
    /// ```
    /// use mvi::trace_context::{SpanId, TraceId, TraceParent};
    ///
    /// let header = TraceParent::child_header(TraceId(0x4bf92f3577b34da6a3ce929d0e0e4736), SpanId(0xb7ad6b7169203331), 1);
    /// assert_eq!(header, "00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01");
    /// ```
    pub fn child_header(trace_id: TraceId, span_id: SpanId, flags: u8) -> http::HeaderValue {
        http::HeaderValue::from_bytes(&Self::child_bytes(trace_id, span_id, flags))
            .expect("lowercase hex and dashes")
    }

    /// The same as bytes: `00-<trace id>-<span id>-<flags>`, written digit by digit (on the path of
    /// every request and every outgoing call, where `format!` costs more than the rest).
    pub(crate) fn child_bytes(trace_id: TraceId, span_id: SpanId, flags: u8) -> [u8; LEN] {
        let mut buf = [b'-'; LEN];
        buf[0] = b'0';
        buf[1] = b'0';
        write_hex(&mut buf[3..35], trace_id.0);
        write_hex(&mut buf[36..52], u128::from(span_id.0));
        write_hex(&mut buf[53..55], u128::from(flags));
        buf
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

/// Parses lowercase hex of up to 32 digits, 16 at a time in a `u64` (cheaper than shifting a `u128`
/// per digit, on the path of every request).
fn hex(digits: &[u8]) -> Option<u128> {
    let (high, low) = digits.split_at(digits.len().saturating_sub(16));
    Some(u128::from(hex64(high)?) << 64 | u128::from(hex64(low)?))
}

/// Lowercase hex of up to 16 digits: eight at a time when they come in eights, as ids do.
pub(crate) fn hex64(digits: &[u8]) -> Option<u64> {
    let eights = digits.chunks_exact(8);
    if digits.len() <= 16 && eights.remainder().is_empty() {
        return eights.into_iter().try_fold(0u64, |acc, eight| {
            Some(acc << 32 | u64::from(unhex8(eight.try_into().ok()?)?))
        });
    }
    digits
        .iter()
        .try_fold(0u64, |acc, &b| Some(acc << 4 | u64::from(hex_value(b)?)))
}

/// The value of 8 lowercase hex digits, checked and converted in one word, the mirror of [`hex8`].
fn unhex8(digits: [u8; 8]) -> Option<u32> {
    const TOP: u64 = 0x8080_8080_8080_8080;
    const fn each(b: u8) -> u64 {
        0x0101_0101_0101_0101 * b as u64
    }
    let v = u64::from_be_bytes(digits);
    if v & TOP != 0 {
        return None;
    }
    // The top bit of each byte says whether the byte is at least `bound`: no byte is above 0x7f, so
    // no sum carries into the next byte.
    let at_least = |bound: u8| v + each(0x80 - bound);
    let digit = at_least(b'0') & !at_least(b'9' + 1);
    let letter = at_least(b'a') & !at_least(b'f' + 1);
    if (digit | letter) & TOP != TOP {
        return None;
    }
    // A digit's low nibble is its value, a letter's is its value less 9; then the nibbles, the first
    // digit the highest, are packed together.
    let mut n = (v & each(0x0f)) + ((letter & TOP) >> 7) * 9;
    n = (n | n >> 4) & 0x00ff_00ff_00ff_00ff;
    n = (n | n >> 8) & 0x0000_ffff_0000_ffff;
    n = (n | n >> 16) & 0x0000_0000_ffff_ffff;
    Some(n as u32)
}

/// Parses one `traceparent` value; `None` if it breaks any rule.
///
/// # Examples
///
/// ```
/// use mvi::trace_context::parse_traceparent;
///
/// assert!(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".as_bytes()).is_some());
/// // Upper-case hex, an all-zero trace id, version ff: each starts a new trace instead.
/// assert!(parse_traceparent(b"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01").is_none());
/// assert!(parse_traceparent(b"00-00000000000000000000000000000000-00f067aa0ba902b7-01").is_none());
/// assert!(parse_traceparent(b"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").is_none());
/// ```
pub fn parse_traceparent(value: &[u8]) -> Option<TraceParent> {
    if value.len() < LEN {
        return None;
    }
    let version = hex(&value[0..2])? as u8;
    if version == 0xff {
        return None;
    }
    if version == 0 && value.len() != LEN {
        return None;
    }
    if value.len() > LEN && value[LEN] != b'-' {
        return None;
    }
    if value[2] != b'-' || value[35] != b'-' || value[52] != b'-' {
        return None;
    }
    let trace_id = hex(&value[3..35])?;
    let parent_id = hex(&value[36..52])? as u64;
    let flags = hex(&value[53..55])? as u8;
    if trace_id == 0 || parent_id == 0 {
        return None;
    }
    Some(TraceParent {
        version,
        trace_id: TraceId(trace_id),
        parent_id: SpanId(parent_id),
        flags,
    })
}

/// Most `tracestate` list members (W3C: 32).
const MAX_TRACESTATE_MEMBERS: usize = 32;

pub(crate) const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
pub(crate) const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
/// Longest `tracestate` we carry on (W3C asks to propagate at least 512 characters).
const MAX_TRACESTATE_LEN: usize = 512;

/// The incoming trace context of a request: a valid `traceparent` (exactly one header) and, with it,
/// the `tracestate` list if it is well formed.
///
/// # Examples
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// headers.insert("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap());
/// headers.insert("tracestate", "vendor=abc".parse().unwrap());
/// let (parent, state) = mvi::trace_context::extract(&headers).unwrap();
/// assert_eq!(parent.trace_id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert_eq!(state.as_deref(), Some("vendor=abc"));
/// ```
pub fn extract(headers: &HeaderMap) -> Option<(TraceParent, Option<String>)> {
    let mut values = headers.get_all(TRACEPARENT).iter();
    let first = values.next()?;
    if values.next().is_some() {
        return None;
    }
    parent_and_state(first, headers, true)
}

/// The parent a request's only `traceparent` names, with the request's `tracestate` when `has_state`
/// (a caller that has seen the headers already knows whether there is one to look up).
pub(crate) fn parent_and_state(
    traceparent: &HeaderValue,
    headers: &HeaderMap,
    has_state: bool,
) -> Option<(TraceParent, Option<String>)> {
    let parent = parse_traceparent(traceparent.as_bytes())?;
    let state = has_state
        .then(|| {
            parse_tracestate(
                headers
                    .get_all(TRACESTATE)
                    .iter()
                    .filter_map(|v| v.to_str().ok()),
            )
        })
        .flatten();
    Some((parent, state))
}

/// The `tracestate` list of one or more header values (list members joined with `,`), if it is well
/// formed: at most 32 members, each `key=value` with a valid key and value, 512 characters in all.
///
/// # Examples
///
/// ```
/// use mvi::trace_context::parse_tracestate;
///
/// let joined = parse_tracestate(["vendor=abc", "other=1"].into_iter());
/// assert_eq!(joined.as_deref(), Some("vendor=abc,other=1"));
/// assert_eq!(parse_tracestate(["not a member"].into_iter()), None);
/// ```
pub fn parse_tracestate<'a>(values: impl Iterator<Item = &'a str>) -> Option<String> {
    let state: Vec<&str> = values
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .collect();
    let valid = !state.is_empty()
        && state.len() <= MAX_TRACESTATE_MEMBERS
        && state.iter().all(|m| {
            m.split_once('=').is_some_and(|(k, v)| {
                !k.is_empty()
                    && k.len() <= 256
                    && k.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-*/@".contains(&b)
                    })
                    && !v.is_empty()
                    && v.len() <= 256
                    && v.bytes()
                        .all(|b| (0x20..=0x7e).contains(&b) && b != b',' && b != b'=')
            })
        });
    let joined = state.join(",");
    (valid && joined.len() <= MAX_TRACESTATE_LEN).then_some(joined)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_written_as_format_writes_them() {
        for v in [
            0u128,
            1,
            0xabc,
            u128::MAX,
            0x0123_4567_89ab_cdef_fedc_ba98_7654_3210,
        ] {
            assert_eq!(TraceId(v).to_string(), format!("{v:032x}"));
            assert_eq!(SpanId(v as u64).to_string(), format!("{:016x}", v as u64));
            let mut two = [0u8; 2];
            write_hex(&mut two, v);
            assert_eq!(
                std::str::from_utf8(&two).unwrap(),
                format!("{:02x}", v as u8)
            );
        }
    }

    use super::*;

    #[test]
    fn eight_digits_parse_as_one_at_a_time_does() {
        // Every byte value in every place of an otherwise valid group.
        let base = *b"09afc3e7";
        for place in 0..8 {
            for b in 0..=255u8 {
                let mut digits = base;
                digits[place] = b;
                let one_at_a_time = digits
                    .iter()
                    .try_fold(0u32, |acc, &d| Some(acc << 4 | u32::from(hex_value(d)?)));
                assert_eq!(unhex8(digits), one_at_a_time, "{digits:?}");
            }
        }
        for v in [0u32, 1, 0xdead_beef, u32::MAX, 0x0123_4567] {
            assert_eq!(unhex8(hex8(v)), Some(v));
        }
    }

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn valid_header() {
        let p = parse_traceparent(VALID.as_bytes()).unwrap();
        assert_eq!(p.trace_id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(p.parent_id.to_string(), "00f067aa0ba902b7");
        assert_eq!(p.flags, 1);
        assert_eq!(
            TraceParent::child_header(p.trace_id, p.parent_id, p.flags),
            VALID
        );
    }

    #[test]
    fn table() {
        let long = format!("{VALID}{}", "0".repeat(8192));
        let cases: &[(&str, bool)] = &[
            (VALID, true),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
                true,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03",
                true,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff",
                true,
            ),
            (
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                true,
            ),
            (
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
                true,
            ),
            (
                "fe-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-what-the-future-holds",
                true,
            ),
            (
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                false,
            ),
            (
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01extra",
                false,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
                false,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
                false,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
                false,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
                false,
            ),
            (
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                false,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
                false,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
                false,
            ),
            (
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                false,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                false,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-xy",
                false,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
                false,
            ),
            (
                "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                false,
            ),
            (
                " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                false,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",
                false,
            ),
            (
                "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
                false,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
                false,
            ),
            ("", false),
            ("00", false),
            (&long, false),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\u{0}",
                false,
            ),
            (
                "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                false,
            ),
        ];
        for (value, valid) in cases {
            assert_eq!(
                parse_traceparent(value.as_bytes()).is_some(),
                *valid,
                "{value:?}"
            );
        }
        assert!(cases.len() >= 25);
    }

    #[test]
    fn repeated_header_is_invalid() {
        let mut headers = HeaderMap::new();
        headers.append("traceparent", VALID.parse().unwrap());
        assert!(extract(&headers).is_some());
        headers.append("traceparent", VALID.parse().unwrap());
        assert!(extract(&headers).is_none());
    }

    #[test]
    fn tracestate_rides_along_when_well_formed() {
        let mut headers = HeaderMap::new();
        headers.insert("traceparent", VALID.parse().unwrap());
        headers.append("tracestate", "rojo=00f067aa0ba902b7".parse().unwrap());
        headers.append("tracestate", "congo=t61rcWkgMzE".parse().unwrap());
        assert_eq!(
            extract(&headers).unwrap().1.as_deref(),
            Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
        );
        headers.append("tracestate", "Bad Key=1".parse().unwrap());
        assert_eq!(extract(&headers).unwrap().1, None);
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        // A deterministic sweep: every prefix length, every byte at every position of a valid header.
        for len in 0..=VALID.len() + 2 {
            let mut bytes = VALID.as_bytes().to_vec();
            bytes.resize(len, b'-');
            let _ = parse_traceparent(&bytes);
            for pos in 0..len {
                for b in 0..=255u8 {
                    let mut v = bytes.clone();
                    v[pos] = b;
                    let _ = parse_traceparent(&v);
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = parse_traceparent(&bytes);
        }

        #[test]
        fn near_valid_headers_never_panic(s in "[0-9a-fA-F-]{50,60}") {
            let _ = parse_traceparent(s.as_bytes());
        }

        #[test]
        fn valid_headers_round_trip(trace in 1..=u128::MAX, span in 1..=u64::MAX, flags in proptest::num::u8::ANY) {
            let header = TraceParent::child_header(TraceId(trace), SpanId(span), flags);
            let parsed = parse_traceparent(header.as_bytes()).unwrap();
            proptest::prop_assert_eq!(parsed, TraceParent { version: 0, trace_id: TraceId(trace), parent_id: SpanId(span), flags });
        }
    }
}
