//! Questions the macros ask about the user's types, each answered in one place.

use proc_macro2::TokenStream;
use quote::quote;
use syn::visit::Visit;
use syn::{ReturnType, Signature, Type};

/// Whether `ty` contains `impl Trait` anywhere (`impl Iterator`, `Box<impl Fn()>`), found in the syntax
/// tree: a type named `SimpleResponse` does not count.
pub(crate) fn contains_impl_trait(ty: &Type) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut f = Finder(false);
    f.visit_type(ty);
    f.0
}

/// The type a wrapped body's output is pinned to: the declared return type, `()` when there is none,
/// and `_` where it cannot be named (`impl Trait`), so inference keeps working.
pub(crate) fn pinned_output(output: &ReturnType) -> TokenStream {
    match output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) if contains_impl_trait(ty) => quote!(_),
        ReturnType::Type(_, ty) => quote!(#ty),
    }
}

/// `&T`, `(T)` and invisible groups around `T` are `T`.
pub(crate) fn strip_refs(ty: &Type) -> &Type {
    match ty {
        Type::Reference(r) => strip_refs(&r.elem),
        Type::Paren(p) => strip_refs(&p.elem),
        Type::Group(g) => strip_refs(&g.elem),
        other => other,
    }
}

/// Whether a type can be named in a `static` declared inside the function: not `impl Trait`, and no
/// generic parameter of the function or `Self`, which statics cannot see.
pub(crate) fn nameable_in_static(ty: &Type, sig: &Signature) -> bool {
    struct Finder<'a> {
        generics: Vec<&'a syn::Ident>,
        found: bool,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_ident(&mut self, i: &'ast syn::Ident) {
            if i == "Self" || self.generics.contains(&i) {
                self.found = true;
            }
        }
        fn visit_lifetime(&mut self, _: &'ast syn::Lifetime) {}
    }
    if contains_impl_trait(ty) {
        return false;
    }
    let generics = sig
        .generics
        .params
        .iter()
        .filter_map(|p| match p {
            syn::GenericParam::Type(t) => Some(&t.ident),
            syn::GenericParam::Const(c) => Some(&c.ident),
            syn::GenericParam::Lifetime(_) => None,
        })
        .collect();
    let mut finder = Finder {
        generics,
        found: false,
    };
    finder.visit_type(ty);
    !finder.found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impl_trait_is_found_in_the_syntax_tree() {
        let has = |src: &str| contains_impl_trait(&syn::parse_str(src).unwrap());
        assert!(has("impl IntoResponse"));
        assert!(has("Result<impl IntoResponse, StatusCode>"));
        assert!(has("Box<dyn Fn() -> impl Sized>"));
        assert!(!has("SimpleResponse"));
        assert!(!has("Implementation<ImplTrait>"));
        assert!(!has("&'static str"));
    }

    #[test]
    fn statics_cannot_name_generics_or_self() {
        let sig: Signature = syn::parse_quote!(fn f<T, const N: usize>(a: T));
        let nameable = |src: &str| nameable_in_static(&syn::parse_str(src).unwrap(), &sig);
        assert!(nameable("Region"));
        assert!(nameable("&'a Region"));
        assert!(!nameable("T"));
        assert!(!nameable("Wrapper<T>"));
        assert!(!nameable("[u8; N]"));
        assert!(!nameable("Self"));
        assert!(!nameable("impl Labels"));
    }
}
