#!/usr/bin/env python3
"""Render the sample IT-procedures manual (Markdown) into a PDF.

Generates data/pdf/procedures-support-it.pdf, the fictional "Nordlys SA"
support manual used by the demo and the tests, from
data/pdf/source/procedures-support-it.md.

Usage
-----
    python3 -m venv /tmp/rl && /tmp/rl/bin/pip install reportlab
    /tmp/rl/bin/python data/pdf/source/make_sample_pdf.py [INPUT.md] [OUTPUT.pdf]

Defaults: INPUT is procedures-support-it.md next to this script, OUTPUT is
../procedures-support-it.pdf relative to this script. The fonts are DejaVu
Sans (regular + bold) from /usr/share/fonts/truetype/dejavu (Debian/Ubuntu
package fonts-dejavu-core); use --font-dir to point elsewhere.

Output properties
-----------------
* A4, justified body text, bold headings larger than the body.
* Embedded subset TrueType fonts with ToUnicode maps (check: pdffonts).
* Header line on every page, footer "Page N / M" (two-pass build).
* PDF outline (bookmarks) with one entry per chapter.
* Deterministic: reportlab invariant mode, so regenerating with the same
  reportlab version and fonts gives byte-identical output.

Supported Markdown subset (all the source uses)
-----------------------------------------------
    # Title            first-page title
    ## 1. Chapter      chapter heading (outline level 0)
    ### 1.1 Section    section heading (outline level 1)
    - item             bullet list item
    1. step            numbered list item
    **bold**           inline bold
    blank line         paragraph separator (consecutive lines are joined)

French typography: a no-break space (U+00A0) is inserted before : ; ? !
and inside « », and phone numbers are kept on one line, as a French
typesetter would do (poppler's pdftotext extracts them as plain spaces).
"""

import argparse
import os
import re
import sys
from io import BytesIO

from reportlab import rl_config

rl_config.invariant = 1  # fixed dates/IDs -> reproducible bytes

from reportlab.lib import colors  # noqa: E402
from reportlab.lib.enums import TA_JUSTIFY, TA_LEFT  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.styles import ParagraphStyle  # noqa: E402
from reportlab.lib.units import cm  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.ttfonts import TTFont  # noqa: E402
from reportlab.platypus import (  # noqa: E402
    BaseDocTemplate,
    Frame,
    PageTemplate,
    Paragraph,
    Spacer,
)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_IN = os.path.join(HERE, "procedures-support-it.md")
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "procedures-support-it.pdf"))
DEFAULT_FONT_DIR = "/usr/share/fonts/truetype/dejavu"

HEADER_TEXT = "Nordlys SA — Procédures du support informatique"
FOOTER_LEFT = "Document interne — ne pas diffuser hors de Nordlys SA"
NBSP = "\u00a0"

PAGE_W, PAGE_H = A4
MARGIN_X = 2.0 * cm
MARGIN_TOP = 2.2 * cm
MARGIN_BOTTOM = 2.0 * cm


def register_fonts(font_dir):
    regular = os.path.join(font_dir, "DejaVuSans.ttf")
    bold = os.path.join(font_dir, "DejaVuSans-Bold.ttf")
    for path in (regular, bold):
        if not os.path.isfile(path):
            sys.exit(f"font not found: {path} (install fonts-dejavu-core or use --font-dir)")
    pdfmetrics.registerFont(TTFont("DejaVuSans", regular))
    pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", bold))
    pdfmetrics.registerFontFamily(
        "DejaVuSans",
        normal="DejaVuSans",
        bold="DejaVuSans-Bold",
        italic="DejaVuSans",
        boldItalic="DejaVuSans-Bold",
    )


def make_styles():
    body = ParagraphStyle(
        "Body",
        fontName="DejaVuSans",
        bulletFontName="DejaVuSans",
        fontSize=9.5,
        leading=12.8,
        alignment=TA_JUSTIFY,
        spaceAfter=5,
    )
    return {
        "title": ParagraphStyle(
            "Title", parent=body, fontName="DejaVuSans-Bold", fontSize=20,
            leading=25, alignment=TA_LEFT, spaceAfter=6,
        ),
        "subtitle": ParagraphStyle(
            "Subtitle", parent=body, fontSize=9.5, leading=13, alignment=TA_LEFT,
            textColor=colors.HexColor("#555555"), spaceAfter=14,
        ),
        "h1": ParagraphStyle(
            "H1", parent=body, fontName="DejaVuSans-Bold", fontSize=14,
            leading=18, alignment=TA_LEFT, spaceBefore=12, spaceAfter=6,
            textColor=colors.HexColor("#12355b"), keepWithNext=1,
        ),
        "h2": ParagraphStyle(
            "H2", parent=body, fontName="DejaVuSans-Bold", fontSize=11,
            leading=14, alignment=TA_LEFT, spaceBefore=6, spaceAfter=3,
            keepWithNext=1,
        ),
        "body": body,
        "item": ParagraphStyle(
            "Item", parent=body, leftIndent=18, bulletIndent=4, spaceAfter=2,
        ),
    }


# ---------------------------------------------------------------- text ----

def french_spacing(text):
    """Apply French no-break spaces (before : ; ? ! and inside guillemets)."""
    text = re.sub(r" ([:;?!])(?=\s|$)", NBSP + r"\1", text)
    text = text.replace("« ", "«" + NBSP).replace(" »", NBSP + "»")
    # keep phone numbers such as "+33 1 23 45 67 89" on one line
    text = re.sub(
        r"\+33(?: \d{1,2})+",
        lambda m: m.group(0).replace(" ", NBSP),
        text,
    )
    # "7 h 30", "4 heures", "30 minutes", "5 jours" ...: no break after numbers
    text = re.sub(r"(?<=\d) (?=(?:h|heures?|minutes?|jours?|secondes?|mois|caractères|To)\b|%)", NBSP, text)
    text = re.sub(r"\b(chapitre|poste|Niveau) (?=\d)", "\\1" + NBSP, text)
    text = re.sub(r"(?<=\bsur) (?=\d)", NBSP, text)  # "24 heures sur 24"
    return text


def inline(text):
    """Markdown inline -> reportlab paragraph markup."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    return french_spacing(text)


def parse_markdown(md):
    """Yield (kind, payload) blocks: title, h1, h2, para, bullet, step."""
    blocks = []
    para = []

    def flush():
        if para:
            blocks.append(("para", " ".join(para)))
            para.clear()

    for raw in md.splitlines():
        line = raw.rstrip()
        if not line.strip():
            flush()
            continue
        m_num = re.match(r"^(\d+)\.\s+(.*)$", line)
        if line.startswith("### "):
            flush()
            blocks.append(("h2", line[4:].strip()))
        elif line.startswith("## "):
            flush()
            blocks.append(("h1", line[3:].strip()))
        elif line.startswith("# "):
            flush()
            blocks.append(("title", line[2:].strip()))
        elif line.startswith("- "):
            flush()
            blocks.append(("bullet", line[2:].strip()))
        elif m_num:
            flush()
            blocks.append(("step", (m_num.group(1), m_num.group(2).strip())))
        elif para == [] and blocks and blocks[-1][0] in ("bullet", "step") and raw.startswith("  "):
            # continuation line of a list item
            kind, payload = blocks[-1]
            if kind == "step":
                blocks[-1] = (kind, (payload[0], payload[1] + " " + line.strip()))
            else:
                blocks[-1] = (kind, payload + " " + line.strip())
        else:
            para.append(line.strip())
    flush()
    return blocks


class Heading(Paragraph):
    """Paragraph that also creates a PDF outline entry."""

    def __init__(self, text, style, level, key):
        super().__init__(inline(text), style)
        self.outline_title = text
        self.outline_level = level
        self.outline_key = key


def build_story(blocks, styles):
    story = []
    seen_title = False
    n_heading = 0
    for kind, payload in blocks:
        if kind == "title":
            story.append(Paragraph(inline(payload), styles["title"]))
            seen_title = True
        elif kind == "h1":
            n_heading += 1
            story.append(Heading(payload, styles["h1"], 0, f"h{n_heading}"))
        elif kind == "h2":
            n_heading += 1
            story.append(Heading(payload, styles["h2"], 1, f"h{n_heading}"))
        elif kind == "bullet":
            story.append(Paragraph(inline(payload), styles["item"], bulletText="•"))
        elif kind == "step":
            num, text = payload
            story.append(Paragraph(inline(text), styles["item"], bulletText=f"{num}."))
        elif kind == "para":
            if seen_title and len(story) == 1:
                # the line right under the title is the subtitle
                story.append(Paragraph(inline(payload), styles["subtitle"]))
            else:
                story.append(Paragraph(inline(payload), styles["body"]))
    # a little air after list blocks before following paragraphs
    out = []
    for i, f in enumerate(story):
        out.append(f)
        nxt = story[i + 1] if i + 1 < len(story) else None
        if (
            getattr(f, "bulletText", None) is not None
            and nxt is not None
            and getattr(nxt, "bulletText", None) is None
            and not isinstance(nxt, Heading)
        ):
            out.append(Spacer(0, 4))
    return out


# ---------------------------------------------------------------- doc -----

class ManualDoc(BaseDocTemplate):
    def __init__(self, filename, total_pages, **kw):
        super().__init__(filename, **kw)
        self.total_pages = total_pages
        frame = Frame(
            MARGIN_X, MARGIN_BOTTOM, PAGE_W - 2 * MARGIN_X,
            PAGE_H - MARGIN_TOP - MARGIN_BOTTOM, id="body",
            leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0,
        )
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=self.decorate)])

    def decorate(self, canv, doc):
        canv.saveState()
        grey = colors.HexColor("#666666")
        # header
        y_head = PAGE_H - 1.5 * cm
        canv.setFont("DejaVuSans", 8.5)
        canv.setFillColor(grey)
        canv.drawString(MARGIN_X, y_head, HEADER_TEXT)
        canv.setStrokeColor(colors.HexColor("#999999"))
        canv.setLineWidth(0.5)
        canv.line(MARGIN_X, y_head - 4, PAGE_W - MARGIN_X, y_head - 4)
        # footer
        y_foot = 1.3 * cm
        canv.line(MARGIN_X, y_foot + 10, PAGE_W - MARGIN_X, y_foot + 10)
        canv.drawString(MARGIN_X, y_foot, FOOTER_LEFT)
        total = self.total_pages if self.total_pages else "?"
        canv.drawRightString(PAGE_W - MARGIN_X, y_foot, f"Page {doc.page} / {total}")
        canv.restoreState()

    def afterFlowable(self, flowable):
        if isinstance(flowable, Heading):
            c = self.canv
            c.bookmarkPage(flowable.outline_key)
            c.addOutlineEntry(
                flowable.outline_title, flowable.outline_key,
                level=flowable.outline_level, closed=flowable.outline_level > 0,
            )


def render(blocks, styles, target, total_pages):
    doc = ManualDoc(
        target,
        total_pages,
        pagesize=A4,
        invariant=1,
        title="Procédures du support informatique",
        author="Nordlys SA — Direction des systèmes d’information",
        subject="Manuel interne des procédures du support informatique (exemple fictif)",
        keywords="support informatique, procédures, Nordlys",
        creator="make_sample_pdf.py (reportlab)",
        lang="fr-FR",
        initialFontName="DejaVuSans",
    )
    doc.build(build_story(blocks, styles))
    return doc.page


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", nargs="?", default=DEFAULT_IN)
    ap.add_argument("output", nargs="?", default=DEFAULT_OUT)
    ap.add_argument("--font-dir", default=DEFAULT_FONT_DIR)
    args = ap.parse_args(argv)

    register_fonts(args.font_dir)
    styles = make_styles()
    with open(args.input, encoding="utf-8") as fh:
        blocks = parse_markdown(fh.read())

    # pass 1: count pages; pass 2: render with "Page N / M"
    total = render(blocks, styles, BytesIO(), None)
    pages = render(blocks, styles, args.output, total)
    if pages != total:
        sys.exit(f"page count changed between passes ({total} -> {pages})")
    print(f"wrote {args.output} ({pages} pages, {os.path.getsize(args.output)} bytes)")


if __name__ == "__main__":
    main()
