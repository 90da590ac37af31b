"""Business-unit settings: the rules FlexPortal keeps in its dashboard.

VAT, payment terms, billing cycle, first payment, buyout and early-return rules, extension
rules, contract-end behaviour, ID prefixes.
"""
