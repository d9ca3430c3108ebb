//! Histogram buckets, computed and validated at compile time.
//!
//! Accepted forms: `exponential(start, factor, count)`, `linear(start, width, count)` and an explicit
//! array `[0.005, 0.01, ...]`. Every error is spanned on the literal that breaks the rule.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ExprUnary, Lit, UnOp};

/// At most this many buckets per histogram.
pub(crate) const MAX_BUCKETS: usize = 64;

/// The buckets OpenTelemetry recommends for durations (`http.server.request.duration`), in seconds.
pub(crate) const DEFAULT_SECONDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// A number as written, with the span of its literal.
struct Number {
    value: f64,
    span: Span,
}

fn number(expr: &Expr) -> syn::Result<Number> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Float(f), ..
        }) => Ok(Number {
            value: f.base10_parse()?,
            span: f.span(),
        }),
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => Ok(Number {
            value: i.base10_parse::<f64>()?,
            span: i.span(),
        }),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr: inner,
            ..
        }) => {
            // Spanned on the literal: a span covering `-` and the literal needs `Span::join`.
            let n = number(inner)?;
            Ok(Number {
                value: -n.value,
                span: n.span,
            })
        }
        Expr::Paren(p) => number(&p.expr),
        Expr::Group(g) => number(&g.expr),
        _ => Err(syn::Error::new(expr.span(), "expected a number literal")),
    }
}

fn count(expr: &Expr) -> syn::Result<usize> {
    let Expr::Lit(ExprLit {
        lit: Lit::Int(i), ..
    }) = expr
    else {
        return Err(syn::Error::new(
            expr.span(),
            "expected the bucket count as an integer literal",
        ));
    };
    let n: usize = i.base10_parse().map_err(|_| {
        syn::Error::new(i.span(), format!("bucket count must be 1 to {MAX_BUCKETS}"))
    })?;
    if n == 0 || n > MAX_BUCKETS {
        return Err(syn::Error::new(
            i.span(),
            format!("bucket count must be 1 to {MAX_BUCKETS}, found {n}"),
        ));
    }
    Ok(n)
}

fn positive(n: &Number, what: &str) -> syn::Result<()> {
    if !n.value.is_finite() || n.value <= 0.0 {
        return Err(syn::Error::new(
            n.span,
            format!(
                "{what} must be a finite number greater than 0, found {}",
                n.value
            ),
        ));
    }
    Ok(())
}

/// Rounds away binary floating-point noise (`0.15000000000000002` → `0.15`) so `le` labels read as written.
fn tidy(x: f64) -> f64 {
    format!("{x:.12e}").parse().unwrap_or(x)
}

/// Parses and validates a bucket expression.
pub(crate) fn parse(expr: &Expr) -> syn::Result<Vec<f64>> {
    let values = match expr {
        Expr::Call(call) => {
            let Expr::Path(func) = &*call.func else {
                return Err(syn::Error::new(call.func.span(), BUCKET_FORMS));
            };
            let name = func
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            let args: Vec<&Expr> = call.args.iter().collect();
            if (name == "exponential" || name == "linear") && args.len() != 3 {
                return Err(syn::Error::new(
                    call.span(),
                    format!(
                        "`{name}` takes 3 arguments: `{name}({})`",
                        if name == "linear" {
                            "start, width, count"
                        } else {
                            "start, factor, count"
                        }
                    ),
                ));
            }
            match name.as_str() {
                "exponential" => {
                    let (start, factor, n) = (number(args[0])?, number(args[1])?, count(args[2])?);
                    positive(&start, "`exponential` start")?;
                    if !factor.value.is_finite() || factor.value <= 1.0 {
                        return Err(syn::Error::new(
                            factor.span,
                            format!(
                                "`exponential` factor must be greater than 1, found {}",
                                factor.value
                            ),
                        ));
                    }
                    (0..n)
                        .map(|i| tidy(start.value * factor.value.powi(i as i32)))
                        .collect::<Vec<_>>()
                }
                "linear" => {
                    let (start, width, n) = (number(args[0])?, number(args[1])?, count(args[2])?);
                    positive(&start, "`linear` start")?;
                    if !width.value.is_finite() || width.value <= 0.0 {
                        return Err(syn::Error::new(
                            width.span,
                            format!(
                                "`linear` width must be greater than 0, found {}",
                                width.value
                            ),
                        ));
                    }
                    (0..n)
                        .map(|i| tidy(start.value + width.value * i as f64))
                        .collect()
                }
                _ => return Err(syn::Error::new(func.span(), BUCKET_FORMS)),
            }
        }
        Expr::Array(array) => {
            if array.elems.is_empty() {
                return Err(syn::Error::new(
                    array.span(),
                    "bucket list is empty; give 1 to 64 bucket bounds",
                ));
            }
            if array.elems.len() > MAX_BUCKETS {
                return Err(syn::Error::new(
                    array.span(),
                    format!(
                        "{} buckets given; at most {MAX_BUCKETS} are allowed",
                        array.elems.len()
                    ),
                ));
            }
            let mut values = Vec::with_capacity(array.elems.len());
            let mut previous: Option<f64> = None;
            for elem in &array.elems {
                let n = number(elem)?;
                positive(&n, "bucket bound")?;
                if let Some(p) = previous {
                    if n.value <= p {
                        return Err(syn::Error::new(
                            n.span,
                            format!(
                                "buckets must be strictly increasing: {} follows {p}",
                                n.value
                            ),
                        ));
                    }
                }
                previous = Some(n.value);
                values.push(n.value);
            }
            values
        }
        _ => return Err(syn::Error::new(expr.span(), BUCKET_FORMS)),
    };
    if let Some(last) = values.last().filter(|v| !v.is_finite()) {
        return Err(syn::Error::new(
            expr.span(),
            format!("the last bucket overflows to {last}; use fewer buckets"),
        ));
    }
    Ok(values)
}

const BUCKET_FORMS: &str = "expected `exponential(start, factor, count)`, `linear(start, width, count)` or a list like `[0.1, 0.5, 1.0]`";

#[cfg(test)]
mod tests {
    use super::*;

    fn buckets(src: &str) -> Result<Vec<f64>, String> {
        parse(&syn::parse_str(src).unwrap()).map_err(|e| e.to_string())
    }

    #[test]
    fn exponential_matches_spec() {
        assert_eq!(
            buckets("exponential(0.01, 2, 8)").unwrap(),
            [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28]
        );
    }

    #[test]
    fn linear_is_tidy() {
        assert_eq!(
            buckets("linear(0.05, 0.05, 4)").unwrap(),
            [0.05, 0.1, 0.15, 0.2]
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert!(
            buckets("exponential(0.01, 1, 8)")
                .unwrap_err()
                .contains("factor")
        );
        assert!(buckets("linear(0.01, 0, 8)").unwrap_err().contains("width"));
        assert!(
            buckets("exponential(0.01, 2, 65)")
                .unwrap_err()
                .contains("1 to 64")
        );
        assert!(
            buckets("[0.1, 0.1]")
                .unwrap_err()
                .contains("strictly increasing")
        );
        assert!(buckets("[-1.0]").unwrap_err().contains("greater than 0"));
        assert!(buckets("[]").unwrap_err().contains("empty"));
        assert!(buckets("squares(1, 2)").unwrap_err().contains("expected"));
        assert!(
            buckets("exponential(1e300, 1e10, 64)")
                .unwrap_err()
                .contains("overflows")
        );
    }
}
