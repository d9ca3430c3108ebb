//! Parse step of `#[traced_handler(...)]`: the options as written.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::{LitStr, Path};

use crate::attr::{self, Keys};
use crate::buckets;
use crate::ctxt::Ctxt;

const KEYS: &[&str] = &["buckets", "name", "crate"];

#[derive(Default)]
pub(crate) struct Attr {
    pub(crate) buckets: Option<buckets::Spec>,
    /// The duration histogram's name.
    pub(crate) name: Option<LitStr>,
    pub(crate) krate: Option<Path>,
}

impl Attr {
    /// Parses the attribute's arguments; errors go to `cx` and parsing goes on where it can.
    pub(crate) fn parse(args: TokenStream, cx: &Ctxt) -> Attr {
        let mut out = Attr::default();
        let mut keys = Keys::new(KEYS);
        let parser = syn::meta::parser(|meta| {
            match keys.accept(&meta, cx)? {
                Some("buckets") => match buckets::Spec::parse(&meta.value()?.parse()?) {
                    Ok(spec) => out.buckets = Some(spec),
                    Err(e) => cx.push(e),
                },
                Some("name") => out.name = Some(meta.value()?.parse()?),
                Some(_) => out.krate = Some(attr::crate_path(&meta)?),
                None => {}
            }
            Ok(())
        });
        if let Err(e) = parser.parse2(args) {
            cx.push(e);
        }
        out
    }
}
