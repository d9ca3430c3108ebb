//! Expansion step of the label derives: prints the checked sets; nothing here can fail. The impls go
//! through `__private`, inside `const _: () = { ... };`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use super::valid::{LabelSet, ValueSet};
use crate::attr::first_token_span;

pub(crate) fn value_set(set: &ValueSet<'_>) -> TokenStream {
    let ValueSet {
        krate,
        ident,
        values,
    } = set;
    let private = quote!(#krate::__private);
    let arms = values.iter().map(|(v, value)| quote!(Self::#v => #value));
    let index_arms = values
        .iter()
        .enumerate()
        .map(|(i, (v, _))| quote!(Self::#v => #i));
    let values = values.iter().map(|(_, value)| value);
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #private::LabelValue for #ident {
                const VALUES: ::core::option::Option<&'static [&'static str]> =
                    ::core::option::Option::Some(&[#(#values),*]);

                #[inline]
                fn label_value(&self) -> #private::LabelStr<'_> {
                    #private::LabelStr::borrowed(match self { #(#arms,)* })
                }

                #[inline]
                fn label_index(&self) -> usize {
                    match self { #(#index_arms,)* }
                }
            }
        };
    }
}

pub(crate) fn label_set(set: &LabelSet<'_>) -> TokenStream {
    let LabelSet {
        krate,
        ident,
        generics,
        fields,
    } = set;
    let private = quote!(#krate::__private);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let lv = quote!(#private::LabelValue);
    let names = fields.iter().map(|(_, _, name)| name);
    let values = fields
        .iter()
        .map(|(_, ty, _)| quote_spanned!(first_token_span(ty)=> <#ty as #lv>::VALUES));
    let index_steps = fields.iter().map(|(field, ty, _)| {
        quote!(index = index * <#ty as #lv>::VALUES.map_or(1, <[_]>::len) + <#ty as #lv>::label_index(&self.#field);)
    });
    let value_exprs = fields
        .iter()
        .map(|(field, ty, _)| quote!(&*<#ty as #lv>::label_value(&self.#field)));
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #private::Labels for #ident #ty_generics #where_clause {
                const NAMES: &'static [&'static str] = &[#(#names),*];
                const VALUES: &'static [::core::option::Option<&'static [&'static str]>] = &[#(#values),*];

                #[inline]
                fn index(&self) -> usize {
                    let mut index = 0usize;
                    #(#index_steps)*
                    index
                }

                #[inline]
                fn with_values<__MviR>(&self, f: impl ::core::ops::FnOnce(&[&str]) -> __MviR) -> __MviR {
                    f(&[#(#value_exprs),*])
                }
            }
        };
    }
}
