"""The certificate of a recognised record as a one-page PDF (reportlab), in kk, ru or en,
with a QR code (reportlab's own QR widget) that opens the public verification page."""

from __future__ import annotations

import io

from flask_babel import force_locale, gettext as _

from ..exports import printable
from ..i18n import day, number
from ..portfolio.pdf import _fonts
from ..settings import Settings
from .credentials import Record


def certificate_pdf(
    record: Record, *, verify_url: str, locale: str, settings: Settings, label, issuer: str
) -> bytes:
    """A4 landscape: who, what, when, the recognised workload, the decision, and the QR code."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.colors import HexColor
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfgen import canvas

    regular, bold = _fonts(settings)
    width, height = landscape(A4)
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=(width, height))
    with force_locale(locale):
        pdf.setTitle(_("Certificate"))
        pdf.setStrokeColor(HexColor("#1f4e79"))
        pdf.setLineWidth(3)
        pdf.rect(24, 24, width - 48, height - 48)
        pdf.setFont(bold, 30)
        pdf.drawCentredString(width / 2, height - 100, _("Certificate"))
        pdf.setFont(regular, 13)
        pdf.drawCentredString(width / 2, height - 128, printable(issuer))
        pdf.setFont(regular, 14)
        pdf.drawCentredString(width / 2, height - 170, _("This certifies that"))
        pdf.setFont(bold, 22)
        pdf.drawCentredString(width / 2, height - 200, printable(record.person))
        pdf.setFont(regular, 13)
        if record.department:
            pdf.drawCentredString(width / 2, height - 220, printable(record.department))
        pdf.drawCentredString(width / 2, height - 250, _("completed"))
        pdf.setFont(bold, 16)
        title = printable(record.title)
        pdf.drawCentredString(width / 2, height - 275, title[:90])
        if len(title) > 90:
            pdf.drawCentredString(width / 2, height - 295, title[90:180])
        pdf.setFont(regular, 12)
        lines = [
            _("Form: %(form)s", form=label("forms", record.form))
            + (f" — {label('formats', record.format)}" if record.format else ""),
            _(
                "Dates: %(start)s – %(end)s",
                start=day(record.starts_on) if record.starts_on else "—",
                end=day(record.ends_on) if record.ends_on else "—",
            ),
            _(
                "Recognised workload: %(hours)s academic hours = %(units)s credit units",
                hours=number(record.hours),
                units=number(record.units),
            ),
            _(
                "Decision of the recognition commission: No. %(number)s of %(date)s",
                number=printable(record.decision_number),
                date=day(record.decision_date) if record.decision_date else "—",
            ),
        ]
        y = height - 330
        for line in lines:
            pdf.drawString(70, y, printable(line))
            y -= 20
        size = 120
        widget = QrCodeWidget(verify_url)
        left, bottom, right, top = widget.getBounds()
        drawing = Drawing(
            size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0]
        )
        drawing.add(widget)
        renderPDF.draw(drawing, pdf, width - 70 - size, 60)
        pdf.setFont(regular, 9)
        pdf.drawRightString(width - 70, 48, _("Check this certificate: %(url)s", url=verify_url))
    pdf.showPage()
    pdf.save()
    return out.getvalue()
