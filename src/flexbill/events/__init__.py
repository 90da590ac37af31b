"""The event log: one row per business event, written in the transaction that caused it.

Their webhook deliveries are written in the same transaction (``webhooks.fanout``) and sent
by the worker; nothing is sent from inside a request.
``service.emit`` writes an event, ``service.payload`` renders it as a webhook body.
"""
