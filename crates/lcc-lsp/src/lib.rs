//! `lcc-lsp`: the language server on tower-lsp-server. Empty until issue 6.
