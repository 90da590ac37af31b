"""Webhook endpoints and the at-least-once delivery of events to them."""
