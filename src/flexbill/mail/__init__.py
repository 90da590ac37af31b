"""Outgoing e-mail: rows written in the caller's transaction, sent by the worker."""
