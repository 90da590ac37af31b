"""The event log: one row per business event, written in the transaction that caused it.

Webhook delivery (a later issue) reads these rows; nothing is sent from inside a request.
``service.emit`` writes an event, ``service.payload`` renders it as a webhook body.
"""
