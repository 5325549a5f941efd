"""Shared domain package: event schema, contracts, lake layout, parsing, model, serving."""
