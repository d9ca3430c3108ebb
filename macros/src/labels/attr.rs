//! Parse step of `#[label(...)]` on a container, variant or field.

use syn::{LitStr, Path};

use crate::attr::{self, Keys};
use crate::ctxt::Ctxt;

/// The keys of `#[label(...)]` in each position.
pub(crate) const CONTAINER_KEYS: &[&str] = &["crate"];
pub(crate) const VARIANT_KEYS: &[&str] = &["rename"];
pub(crate) const FIELD_KEYS: &[&str] = &["name"];

#[derive(Default)]
pub(crate) struct LabelAttr {
    pub(crate) rename: Option<LitStr>,
    pub(crate) name: Option<LitStr>,
    pub(crate) krate: Option<Path>,
}

impl LabelAttr {
    /// Reads every `#[label(...)]` of one item; `keys` are those valid in its position. A key given
    /// twice, even in two attributes, is reported.
    pub(crate) fn parse(
        attrs: &[syn::Attribute],
        keys: &'static [&'static str],
        cx: &Ctxt,
    ) -> Self {
        let mut out = LabelAttr::default();
        let mut keys = Keys::new(keys);
        for a in attrs.iter().filter(|a| a.path().is_ident("label")) {
            let result = a.parse_nested_meta(|meta| {
                match keys.accept(&meta, cx)? {
                    Some("rename") => out.rename = Some(meta.value()?.parse()?),
                    Some("name") => out.name = Some(meta.value()?.parse()?),
                    Some(_) => out.krate = Some(attr::crate_path(&meta)?),
                    None => {}
                }
                Ok(())
            });
            if let Err(e) = result {
                cx.push(e);
            }
        }
        out
    }
}
