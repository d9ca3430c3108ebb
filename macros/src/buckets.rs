//! Histogram buckets: the accepted forms, parsed, and every rule they must follow, checked, in this one
//! place. The buckets are computed at compile time.
//!
//! Accepted forms: `exponential(start, factor, count)`, `linear(start, width, count)` and an explicit
//! array `[0.005, 0.01, ...]`. Every error is spanned on the literal that breaks the rule.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ExprUnary, Lit, LitInt, UnOp};

/// At most this many buckets per histogram.
const MAX_BUCKETS: usize = 64;

const BUCKET_FORMS: &str = "expected `exponential(start, factor, count)`, `linear(start, width, count)` or a list like `[0.1, 0.5, 1.0]`";

/// A bucket expression as written: the parse step's result, before any rule is checked.
pub(crate) struct Spec {
    /// The whole expression.
    span: Span,
    form: Form,
}

enum Form {
    /// `exponential(start, factor, count)` or `linear(start, width, count)`.
    Series {
        growth: Growth,
        start: Number,
        step: Number,
        count: LitInt,
    },
    List(Vec<Number>),
}

#[derive(Clone, Copy)]
enum Growth {
    Exponential,
    Linear,
}

impl Growth {
    fn name(self) -> &'static str {
        match self {
            Growth::Exponential => "exponential",
            Growth::Linear => "linear",
        }
    }

    /// What the step is called, and the value it must exceed.
    fn step(self) -> (&'static str, f64) {
        match self {
            Growth::Exponential => ("factor", 1.0),
            Growth::Linear => ("width", 0.0),
        }
    }

    /// Bound `i` of a series.
    fn bound(self, start: f64, step: f64, i: usize) -> f64 {
        match self {
            Growth::Exponential => start * step.powi(i as i32),
            Growth::Linear => start + step * i as f64,
        }
    }
}

/// A number as written, with the span of its literal.
struct Number {
    value: f64,
    span: Span,
}

impl Spec {
    /// Reads a bucket expression; errors here are about its form, not its values.
    pub(crate) fn parse(expr: &Expr) -> syn::Result<Spec> {
        let form = match expr {
            Expr::Call(call) => {
                let Expr::Path(func) = &*call.func else {
                    return Err(syn::Error::new(call.func.span(), BUCKET_FORMS));
                };
                let name = func
                    .path
                    .get_ident()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                let growth = match name.as_str() {
                    "exponential" => Growth::Exponential,
                    "linear" => Growth::Linear,
                    _ => return Err(syn::Error::new(func.span(), BUCKET_FORMS)),
                };
                let args: Vec<&Expr> = call.args.iter().collect();
                let [start, step, count] = args[..] else {
                    let (step, _) = growth.step();
                    return Err(syn::Error::new(
                        call.span(),
                        format!("`{name}` takes 3 arguments: `{name}(start, {step}, count)`"),
                    ));
                };
                Form::Series {
                    growth,
                    start: number(start)?,
                    step: number(step)?,
                    count: count_literal(count)?,
                }
            }
            Expr::Array(array) => {
                Form::List(array.elems.iter().map(number).collect::<syn::Result<_>>()?)
            }
            _ => return Err(syn::Error::new(expr.span(), BUCKET_FORMS)),
        };
        Ok(Spec {
            span: expr.span(),
            form,
        })
    }

    /// Checks the rules (finite, positive, strictly increasing, 1 to 64 of them; an `exponential`
    /// factor above 1, a `linear` width above 0) and computes the bucket bounds.
    pub(crate) fn check(&self) -> syn::Result<Vec<f64>> {
        let values: Vec<f64> = match &self.form {
            Form::Series {
                growth,
                start,
                step,
                count,
            } => {
                let n = bucket_count(count)?;
                let name = growth.name();
                positive(start, &format!("`{name}` start"))?;
                let (what, floor) = growth.step();
                if !step.value.is_finite() || step.value <= floor {
                    return Err(syn::Error::new(
                        step.span,
                        format!(
                            "`{name}` {what} must be greater than {floor}, found {}",
                            step.value
                        ),
                    ));
                }
                (0..n)
                    .map(|i| tidy(growth.bound(start.value, step.value, i)))
                    .collect()
            }
            Form::List(bounds) => {
                if bounds.is_empty() {
                    return Err(syn::Error::new(
                        self.span,
                        format!("bucket list is empty; give 1 to {MAX_BUCKETS} bucket bounds"),
                    ));
                }
                if bounds.len() > MAX_BUCKETS {
                    return Err(syn::Error::new(
                        self.span,
                        format!(
                            "{} buckets given; at most {MAX_BUCKETS} are allowed",
                            bounds.len()
                        ),
                    ));
                }
                let mut previous: Option<f64> = None;
                for n in bounds {
                    positive(n, "bucket bound")?;
                    if let Some(p) = previous.filter(|p| n.value <= *p) {
                        return Err(syn::Error::new(
                            n.span,
                            format!(
                                "buckets must be strictly increasing: {} follows {p}",
                                n.value
                            ),
                        ));
                    }
                    previous = Some(n.value);
                }
                bounds.iter().map(|n| n.value).collect()
            }
        };
        if let Some(last) = values.last().filter(|v| !v.is_finite()) {
            return Err(syn::Error::new(
                self.span,
                format!("the last bucket overflows to {last}; use fewer buckets"),
            ));
        }
        Ok(values)
    }
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

fn count_literal(expr: &Expr) -> syn::Result<LitInt> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => Ok(i.clone()),
        _ => Err(syn::Error::new(
            expr.span(),
            "expected the bucket count as an integer literal",
        )),
    }
}

fn bucket_count(lit: &LitInt) -> syn::Result<usize> {
    match lit.base10_parse::<usize>() {
        Ok(n) if (1..=MAX_BUCKETS).contains(&n) => Ok(n),
        Ok(n) => Err(syn::Error::new(
            lit.span(),
            format!("bucket count must be 1 to {MAX_BUCKETS}, found {n}"),
        )),
        Err(_) => Err(syn::Error::new(
            lit.span(),
            format!("bucket count must be 1 to {MAX_BUCKETS}"),
        )),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn buckets(src: &str) -> Result<Vec<f64>, String> {
        Spec::parse(&syn::parse_str(src).unwrap())
            .and_then(|spec| spec.check())
            .map_err(|e| e.to_string())
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
            buckets("linear(1, 2)")
                .unwrap_err()
                .contains("takes 3 arguments")
        );
        assert!(buckets("[0.1, x]").unwrap_err().contains("number literal"));
        assert!(
            buckets("exponential(1e300, 1e10, 64)")
                .unwrap_err()
                .contains("overflows")
        );
    }
}
