"""The e-mails flexbill sends: a subject and paragraphs per template, rendered as plain
text and as HTML from the same paragraphs, so that both parts always say the same.

Every value and every line of the templates is HTML-escaped in the HTML part; links are the
only markup, and their URLs are checked to be http(s). The fields each template takes are
listed in ``TEMPLATES`` (see ``fields`` for what each kind accepts):

- ``invoice_issued``: invoice_number, amount, currency, due_date, customer_name,
  company_name; optional link
- ``payment_failed``: amount, currency, reason, company_name; optional customer_name,
  invoice_number, next_retry_at (absent: it was the last attempt)
- ``webhook_endpoint_disabled``: endpoint_url, reason, failing_since; optional endpoint_id
- ``license_key``: product, license_key; optional balance, unit, expires_at, company_name
- ``trial_validation``: product, validation_link; optional company_name
- ``access_information``: product, access_information (the vendor's text, line by line);
  optional company_name
- ``test``: nothing (``flexbill mail send-test``)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from flexbill.core.errors import FlexbillError
from flexbill.mail.fields import Field, Kind, formatted, optional


@dataclass(frozen=True)
class Link:
    label: str
    url: str


Paragraph = tuple[str | Link, ...]


@dataclass(frozen=True)
class Letter:
    subject: str
    paragraphs: tuple[Paragraph, ...]


Values = Mapping[str, str]


@dataclass(frozen=True)
class Template:
    name: str
    fields: tuple[Field, ...]
    compose: Callable[[Values], Letter]


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _sign_off(name: str | None) -> tuple[Paragraph, ...]:
    return ((f"Kind regards,\n{name}",),) if name else ()


def _greeting(name: str | None) -> Paragraph:
    return (f"Hello {name},",) if name else ("Hello,",)


def _invoice_issued(v: Values) -> Letter:
    link = ((Link("View the invoice", v["link"]),),) if "link" in v else ()
    return Letter(
        f"Invoice {v['invoice_number']} from {v['company_name']}",
        (
            _greeting(v["customer_name"]),
            (
                f"{v['company_name']} has issued invoice {v['invoice_number']} for "
                f"{v['amount']}, due on {v['due_date']}.",
            ),
            *link,
            ("Thank you for your business.",),
            *_sign_off(v["company_name"]),
        ),
    )


def _payment_failed(v: Values) -> Letter:
    invoice = f" for invoice {v['invoice_number']}" if "invoice_number" in v else ""
    if "next_retry_at" in v:
        outlook = (
            f"We will try again on {v['next_retry_at']}. Please make sure that your "
            "payment method can be charged by then."
        )
    else:
        outlook = (
            "This was the last attempt: the payment will not be tried again. Please "
            f"contact {v['company_name']} to settle it."
        )
    return Letter(
        f"Your payment of {v['amount']} to {v['company_name']} failed",
        (
            _greeting(v.get("customer_name")),
            (f"We could not collect your payment of {v['amount']}{invoice}.",),
            (f"Reason: {v['reason']}",),
            (outlook,),
            *_sign_off(v["company_name"]),
        ),
    )


def _webhook_endpoint_disabled(v: Values) -> Letter:
    endpoint = f" ({v['endpoint_id']})" if "endpoint_id" in v else ""
    return Letter(
        f"Webhook endpoint disabled: {v['endpoint_url']}",
        (
            (
                f"flexbill has disabled your webhook endpoint {v['endpoint_url']}{endpoint}: "
                f"its deliveries have failed since {v['failing_since']}.",
            ),
            (f"Last error: {v['reason']}",),
            (
                "Events are still recorded. Once the receiver answers again, enable the "
                "endpoint and re-send the deliveries it missed.",
            ),
        ),
    )


def _license_key(v: Values) -> Letter:
    details: list[Paragraph] = []
    if "balance" in v:
        unit = f" {v['unit']}" if "unit" in v else ""
        details.append((f"Balance: {v['balance']}{unit}",))
    if "expires_at" in v:
        details.append((f"Valid until: {v['expires_at']}",))
    return Letter(
        f"Your license key for {v['product']}",
        (
            ("Hello,",),
            (f"Here is your license key for {v['product']}:",),
            (v["license_key"],),
            *details,
            ("Keep this e-mail: the key is what your application asks for.",),
            *_sign_off(v.get("company_name")),
        ),
    )


def _trial_validation(v: Values) -> Letter:
    return Letter(
        f"Confirm your e-mail address for {v['product']}",
        (
            ("Hello,",),
            (f"Please confirm your e-mail address to start your free trial of {v['product']}.",),
            (Link("Confirm my e-mail address", v["validation_link"]),),
            ("If you did not ask for a trial, you can ignore this e-mail.",),
            *_sign_off(v.get("company_name")),
        ),
    )


def _access_information(v: Values) -> Letter:
    return Letter(
        f"Your access to {v['product']}",
        (
            ("Hello,",),
            (f"Thank you for buying {v['product']}. Here is how to use it:",),
            *((line,) for line in str(v["access_information"]).splitlines() if line.strip()),
            *_sign_off(v.get("company_name")),
        ),
    )


def _test(_: Values) -> Letter:
    return Letter(
        "flexbill test e-mail",
        (("This is a test e-mail from flexbill. If you can read it, outgoing e-mail works.",),),
    )


TEMPLATES: Mapping[str, Template] = {
    template.name: template
    for template in (
        Template(
            "invoice_issued",
            (
                Field("invoice_number"), Field("amount", Kind.AMOUNT),
                Field("currency", Kind.CURRENCY), Field("due_date", Kind.DATE),
                Field("customer_name"), Field("company_name"), optional("link", Kind.URL),
            ),
            _invoice_issued,
        ),
        Template(
            "payment_failed",
            (
                Field("amount", Kind.AMOUNT), Field("currency", Kind.CURRENCY),
                Field("reason"), Field("company_name"), optional("customer_name"),
                optional("invoice_number"), optional("next_retry_at", Kind.DATE),
            ),
            _payment_failed,
        ),
        Template(
            "webhook_endpoint_disabled",
            (
                Field("endpoint_url"), Field("reason"), Field("failing_since", Kind.DATE),
                optional("endpoint_id"),
            ),
            _webhook_endpoint_disabled,
        ),
        Template(
            "license_key",
            (
                Field("product"), Field("license_key"), optional("balance", Kind.NUMBER),
                optional("unit"), optional("expires_at", Kind.DATE), optional("company_name"),
            ),
            _license_key,
        ),
        Template(
            "trial_validation",
            (Field("product"), Field("validation_link", Kind.URL), optional("company_name")),
            _trial_validation,
        ),
        Template(
            "access_information",
            (Field("product"), Field("access_information"), optional("company_name")),
            _access_information,
        ),
        Template("test", (), _test),
    )
}  # fmt: skip


def render(name: str, data: Mapping[str, Any]) -> Rendered:
    """The subject, text and HTML of template ``name`` with ``data``.

    An unknown template is ``TEMPLATE_NOT_FOUND``; data that does not fit the template is
    a programming error (``ValueError``).
    """
    template = TEMPLATES.get(name)
    if template is None:
        raise FlexbillError("TEMPLATE_NOT_FOUND", f"E-mail template '{name}' not found")
    letter = template.compose(formatted(name, template.fields, data))
    # Header lines cannot hold line breaks: a name with one must not split the subject.
    subject = " ".join(letter.subject.split())
    return Rendered(subject=subject, text=_text(letter), html=_html(subject, letter))


def _text(letter: Letter) -> str:
    paragraphs = (
        "".join(p if isinstance(p, str) else f"{p.label}: {p.url}" for p in paragraph)
        for paragraph in letter.paragraphs
    )
    return "\n\n".join(paragraphs) + "\n"


def _html_part(part: str | Link) -> str:
    if isinstance(part, Link):
        return f'<a href="{escape(part.url)}">{escape(part.label)}</a>'
    return escape(part).replace("\n", "<br>\n")


def _html(subject: str, letter: Letter) -> str:
    body = "\n".join(
        f"<p>{''.join(_html_part(part) for part in paragraph)}</p>"
        for paragraph in letter.paragraphs
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(subject)}</title>\n</head>\n"
        '<body style="font-family: sans-serif; line-height: 1.5; color: #222;">\n'
        f"{body}\n</body>\n</html>\n"
    )
