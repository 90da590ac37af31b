"""Business-unit settings: the rules FlexPortal keeps in its dashboard.

VAT, payment terms, billing cycle, first payment, late fees, payment retry, buyout and
early-return rules, extension rules, contract-end behaviour, contract lengths, ID prefixes.
Each tenant (live or test environment) has its own. ``rules.py`` holds the document and
its defaults, ``patching.py`` how a partial document changes it, ``service.py`` the use
cases other domains call: ``get_settings`` and ``update_settings``.
"""
