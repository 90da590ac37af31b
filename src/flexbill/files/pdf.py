"""What every flexbill document shares: A4 pages, the business's letterhead, parties,
tables, totals and signature lines, drawn with fpdf2; and how amounts and dates read.

Text is set in Helvetica with the Windows-1252 encoding, which covers "€", "£", umlauts,
accents and typographic dashes and renders a page in milliseconds. A document holding a
character beyond that (a Polish or Cyrillic name) is set in DejaVu Sans instead, when the
system has it (Debian: ``fonts-dejavu-core``); without it such characters lose their
accents or become "?".
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from flexbill.core.money import exponent, to_major

CORE_ENCODING = "windows-1252"
FONT_DIRECTORIES = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip

GREY = (110, 110, 110)
LINE_HEIGHT = 4.6
CELL_PADDING = 1.3


def format_money(amount_minor: int, currency: str) -> str:
    """``4999, "EUR"`` → ``€ 49.99``; ``123456789, "USD"`` → ``$ 1,234,567.89``; other
    currencies by their code (``CHF 10.00``)."""
    major = to_major(amount_minor, currency)
    digits = f"{abs(major):,.{exponent(currency)}f}"
    sign = "-" if major < 0 else ""
    return f"{sign}{_SYMBOLS.get(currency.upper(), currency.upper())} {digits}"


def format_date(day: date) -> str:
    """``date(2025, 7, 1)`` → ``1 July 2025``."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def format_percent(rate: Decimal) -> str:
    """``Decimal("19.00")`` → ``19%``, ``Decimal("7.50")`` → ``7.5%``."""
    text = format(rate.normalize(), "f")
    return f"{text}%"


@dataclass(frozen=True)
class Party:
    """One side of a document: a name and the lines under it (company, address, e-mail)."""

    name: str
    lines: tuple[str, ...] = ()


def address_lines(address: dict[str, Any] | None, *, skip_name: str = "") -> tuple[str, ...]:
    """A stored address (``orders``' snake_case JSON) as the lines of a letter."""
    if not address:
        return ()
    city = " ".join(part for part in (address.get("postal_code"), address.get("city")) if part)
    region = ", ".join(part for part in (city, address.get("admin_area")) if part)
    candidates = (
        address.get("contact_name"), address.get("company"), address.get("building_info"),
        address.get("street_address"), address.get("locality"), region, address.get("country"),
    )  # fmt: skip
    return tuple(str(line) for line in candidates if line and line != skip_name)


def strings_in(value: Any) -> Iterator[str]:
    """Every text inside a document's data (to choose a font able to show all of it)."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from strings_in(getattr(value, field.name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


def fits_core_font(text: str) -> bool:
    try:
        text.encode(CORE_ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def to_core_font(text: str) -> str:
    """``text`` with what Windows-1252 lacks replaced: accents dropped where that helps
    (``ő`` → ``o``), "?" otherwise."""
    if fits_core_font(text):
        return text
    kept = []
    for char in text:
        if fits_core_font(char):
            kept.append(char)
            continue
        plain = "".join(c for c in unicodedata.normalize("NFKD", char) if fits_core_font(c))
        kept.append(plain.strip() or "?")
    return "".join(kept)


def unicode_font() -> tuple[Path, Path] | None:
    """DejaVu Sans (regular, bold) where the system keeps it."""
    for directory in FONT_DIRECTORIES:
        regular, bold = directory / "DejaVuSans.ttf", directory / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


class _Pdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(size=7)
        self.set_text_color(*GREY)
        self.cell(0, 4, self.footer_text, align=Align.L)
        self.cell(0, 4, f"Page {self.page_no()} of {{nb}}", align=Align.R)


Alignment = Literal["LEFT", "RIGHT", "CENTER"]


class Sheet:
    """One document being drawn. ``texts`` are all the strings it will show."""

    def __init__(
        self, *, title: str, author: str, created: datetime, footer: str, texts: Iterable[str]
    ) -> None:
        pdf = _Pdf(format="A4")
        font = None if all(fits_core_font(t) for t in texts) else unicode_font()
        if font is None:
            pdf.core_fonts_encoding = CORE_ENCODING
            self.family, self.unicode = "Helvetica", False
        else:
            pdf.add_font("DejaVu", "", font[0])
            pdf.add_font("DejaVu", "B", font[1])
            self.family, self.unicode = "DejaVu", True
        pdf.set_margins(20, 18, 20)
        pdf.c_margin = 0  # text starts where the layout puts it; cells add no inner margin
        pdf.set_auto_page_break(auto=True, margin=22)
        pdf.set_title(self.text(title))
        pdf.set_author(self.text(author))
        pdf.set_creator("flexbill")
        pdf.set_creation_date(created)
        pdf.footer_text = self.text(footer)
        pdf.add_page()
        pdf.set_font(self.family, size=9)
        self.pdf = pdf

    def text(self, value: str) -> str:
        return value if self.unicode else to_core_font(value)

    @property
    def width(self) -> float:
        return float(self.pdf.epw)

    def font(self, size: float, *, bold: bool = False, grey: bool = False) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)
        self.pdf.set_text_color(*(GREY if grey else (0, 0, 0)))

    def write(
        self, width: float, value: str, *, align: Alignment = "LEFT", height: float = LINE_HEIGHT
    ) -> None:
        """``value`` in a box ``width`` wide at the cursor, wrapped if it must be; the
        cursor goes to the start of the next line, at the box's left edge."""
        value = self.text(value)
        x = self.pdf.get_x()
        if self.pdf.will_page_break(height):
            self.pdf.add_page()
            self.pdf.set_x(x)
        y = self.pdf.get_y()
        text_width = self.pdf.get_string_width(value)
        if text_width > width:
            self.pdf.multi_cell(
                width, height, value, align=Align.coerce(align), new_x=XPos.LEFT, new_y=YPos.NEXT
            )
            return
        # Placed text, not a cell: a cell costs fpdf2 several times more, and nearly every
        # piece of a document fits on its line.
        offset = {"LEFT": 0.0, "RIGHT": width - text_width, "CENTER": (width - text_width) / 2}
        if value:
            baseline = y + 0.5 * height + 0.3 * float(self.pdf.font_size)
            self.pdf.text(x + offset[align], baseline, value)
        self.pdf.set_xy(x, y + height)

    def line(
        self,
        value: str,
        *,
        size: float = 9,
        bold: bool = False,
        grey: bool = False,
        align: Alignment = "LEFT",
    ) -> None:
        """One paragraph across the page; the cursor moves below it."""
        self.font(size, bold=bold, grey=grey)
        self.pdf.set_x(self.pdf.l_margin)
        self.write(self.width, value, align=align, height=LINE_HEIGHT if size < 11 else size * 0.5)

    def header(self, seller: str, title: str) -> None:
        """The seller's name at the left and the document's title at the right."""
        top, half = self.pdf.get_y(), self.width / 2
        self.font(15, bold=True)
        self.write(half, seller, height=8)
        seller_bottom = self.pdf.get_y()
        self.pdf.set_xy(self.pdf.l_margin + half, top)
        self.font(18, bold=True)
        self.write(half, title, align="RIGHT", height=8)
        self.pdf.set_xy(self.pdf.l_margin, max(seller_bottom, self.pdf.get_y()))

    def gap(self, height: float = 4) -> None:
        self.pdf.set_xy(self.pdf.l_margin, self.pdf.get_y() + height)

    def party(self, caption: str, party: Party, *, x: float, width: float) -> float:
        """``caption`` above ``party`` in a column at ``x``; the height it took."""
        top = self.pdf.get_y()
        self.pdf.set_x(x)
        self.font(7.5, grey=True)
        self.write(width, caption.upper(), height=4)
        self.font(10, bold=True)
        self.write(width, party.name, height=5)
        self.font(9)
        for entry in party.lines:
            self.write(width, entry)
        return float(self.pdf.get_y()) - top

    def parties(self, left: tuple[str, Party], right: tuple[str, Party]) -> None:
        """Two parties side by side (seller and customer)."""
        top = self.pdf.get_y()
        half = (self.width - 10) / 2
        heights = [self.party(left[0], left[1], x=self.pdf.l_margin, width=half)]
        self.pdf.set_y(top)
        heights.append(self.party(right[0], right[1], x=self.pdf.l_margin + half + 10, width=half))
        self.pdf.set_xy(self.pdf.l_margin, top + max(heights))

    def _pairs(
        self, rows: Sequence[tuple[str, str, bool]], *, width: float, label_share: float
    ) -> None:
        x = self.pdf.l_margin + self.width - width
        for label, value, strong in rows:
            y = self.pdf.get_y()
            self.pdf.set_x(x)
            self.font(9, grey=not strong, bold=strong)
            self.write(width * label_share, label, height=LINE_HEIGHT + 0.8)
            self.pdf.set_xy(x + width * label_share, y)
            self.font(9.5 if strong else 9, bold=True)
            self.write(width * (1 - label_share), value, align="RIGHT", height=LINE_HEIGHT + 0.8)
        self.pdf.set_x(self.pdf.l_margin)

    def facts(self, rows: Sequence[tuple[str, str]], *, width: float = 80) -> None:
        """Label–value pairs at the page's right edge (number, dates)."""
        self._pairs([(label, value, False) for label, value in rows], width=width, label_share=0.3)

    def totals(self, rows: Sequence[tuple[str, str, bool]], *, width: float = 85) -> None:
        """The closing sums at the page's right edge; the third value makes a row stand
        out."""
        self._pairs(rows, width=width, label_share=0.6)

    def table(
        self,
        headings: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        widths: Sequence[float],
        align: Sequence[Alignment],
    ) -> None:
        """A table across the page (``widths`` are shares of it), its headings repeated on
        each new page; long cells wrap."""
        scale = self.width / sum(widths)
        columns = [width * scale for width in widths]
        self._table_row(headings, columns, align, heading=True)
        for values in rows:
            if self._table_row(values, columns, align, dry_run=True):
                self.pdf.add_page()
                self._table_row(headings, columns, align, heading=True)
            self._table_row(values, columns, align)

    def _lines(self, value: str, width: float) -> int:
        if self.pdf.get_string_width(value) <= width:
            return 1
        wrapped = self.pdf.multi_cell(width, LINE_HEIGHT, value, dry_run=True, output="LINES")
        assert isinstance(wrapped, list)
        return len(wrapped)

    def _table_row(
        self,
        values: Sequence[str],
        columns: Sequence[float],
        align: Sequence[Alignment],
        *,
        heading: bool = False,
        dry_run: bool = False,
    ) -> bool:
        """Draw one row; with ``dry_run`` only tell whether it needs a new page first."""
        self.font(8.5, bold=heading)
        texts = [self.text(value) for value in values]
        inner = [width - 2 * CELL_PADDING for width in columns]
        lines = max(self._lines(text, width) for text, width in zip(texts, inner, strict=True))
        height = lines * LINE_HEIGHT + 2 * CELL_PADDING
        if dry_run:
            return bool(self.pdf.will_page_break(height))
        x, top = self.pdf.l_margin, self.pdf.get_y()
        if heading:
            self.pdf.set_fill_color(236, 236, 236)
            self.pdf.rect(x, top, self.width, height, style="F")
        for text, width, side in zip(texts, columns, align, strict=True):
            self.pdf.set_xy(x + CELL_PADDING, top + CELL_PADDING)
            self.write(width - 2 * CELL_PADDING, text, align=side)
            x += width
        self.pdf.set_draw_color(200, 200, 200)
        self.pdf.line(self.pdf.l_margin, top + height, self.pdf.l_margin + self.width, top + height)
        self.pdf.set_xy(self.pdf.l_margin, top + height)
        return False

    def signatures(self, signers: Sequence[tuple[str, str]]) -> None:
        """A line to sign on for each ``(caption, name)``, side by side."""
        if self.pdf.will_page_break(32):
            self.pdf.add_page()
        self.gap(16)
        top = self.pdf.get_y()
        column = (self.width - 10 * (len(signers) - 1)) / len(signers)
        self.pdf.set_draw_color(0, 0, 0)
        for index, (caption, name) in enumerate(signers):
            x = self.pdf.l_margin + index * (column + 10)
            self.pdf.line(x, top, x + column, top)
            self.pdf.set_xy(x, top + 1)
            self.font(8, grey=True)
            self.write(column, f"{caption}, place and date", height=4)
            self.font(9, bold=True)
            self.write(column, name, height=4.5)
        self.pdf.set_xy(self.pdf.l_margin, top + 12)

    def output(self) -> bytes:
        return bytes(self.pdf.output())
