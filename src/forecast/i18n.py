"""Languages: gettext message catalogues (read with Babel) and numbers, dates and units
written the way each language writes them.

Every reader-facing text of the report, the brief and ``forecast run``'s summary is written
in English in the code and the templates (the message id) and translated through one
catalogue per language, ``locales/<lang>/LC_MESSAGES/forecast.po`` (gettext's format, edited
with any PO editor or by hand). The catalogue is compiled in memory when first used, so the
repository holds no binary ``.mo`` files. English needs no catalogue: its texts are the ids.

Update the catalogue after changing texts (``make messages``, :func:`update_catalogues`):
Babel extracts the ids from the Python sources, the templates and the notebooks
(:func:`extract_messages`) and merges them into the ``.po`` files, keeping every
translation; a test fails while an id has no Chinese translation.

Terms follow Chinese statistical publications (全社会研发投入强度, 全员劳动生产率, 概率, 预测区间).
"""
from __future__ import annotations

import io
from datetime import date
from functools import lru_cache
from gettext import NullTranslations
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

from .errors import InputError

#: the languages the report and the summaries are written in
LANGUAGES = ("zh", "en")
#: Babel locale of each language (numbers, dates)
LOCALES = {"zh": "zh_Hans_CN", "en": "en_GB"}
LOCALE_DIR = Path(__file__).parent / "locales"
DOMAIN = "forecast"


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue where it is defined (a constant); it is translated
    where it is shown."""
    return message


def check_language(lang) -> str:
    """``lang`` when it is one of :data:`LANGUAGES`, else an :class:`InputError`."""
    if lang not in LANGUAGES:
        raise InputError(None, f"language {lang!r}", field="lang",
                         expected=" or ".join(LANGUAGES))
    return lang


@lru_cache(maxsize=None)
def catalogue(lang: str) -> NullTranslations:
    """The translations of ``lang`` (English: none, the ids are English)."""
    check_language(lang)
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == "en" or not po.is_file():
        return NullTranslations()
    with po.open("rb") as fh:
        messages = read_po(fh, locale=LOCALES[lang], domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, messages, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


class Language:
    """Texts and formats of one language: ``_()`` translates (and fills ``{named}``
    placeholders), the formatters write numbers, percentages and dates for its readers."""

    def __init__(self, code: str = "en") -> None:
        self.code = check_language(code)
        self.locale = Locale.parse(LOCALES[code])
        self.translations = catalogue(code)

    def _(self, message: str, **values) -> str:
        """``message`` in this language, its ``{placeholders}`` filled from ``values``."""
        text = self.translations.gettext(message)
        return text.format(**values) if values else text

    gettext = _

    def name(self, names: dict, short: bool = False) -> str:
        """An indicator's name in this language from a record with ``name_zh`` and
        ``name_en`` (the catalogue's, a summary row): the other language's where one is
        missing; ``short`` drops the English name's parenthesis."""
        local = names.get(f"name_{self.code}") or names.get("name_en") or names.get("name_zh")
        return str(local).split(" (")[0] if short and local == names.get("name_en") else local

    def ngettext(self, singular: str, plural: str, n: int, **values) -> str:
        text = self.translations.ngettext(singular, plural, n)
        return text.format(n=n, **values)

    def number(self, value: float, digits: int = 4) -> str:
        """``value`` to ``digits`` significant digits, grouped as the language groups
        thousands (21,860)."""
        if value is None or value != value:
            return "–"
        return format_decimal(float(f"{value:.{digits}g}"), locale=self.locale,
                              format="#,##0.######")

    def percent(self, p: float | None) -> str:
        """A probability as :func:`forecast.probability.format_probability` writes it (the
        same in both languages: 9%, <0.1%, >99.9%)."""
        from .probability import format_probability
        return format_probability(p)

    def growth(self, rate: float | None, digits: int = 1) -> str:
        """A yearly growth rate, +4.3% a year."""
        if rate is None or rate != rate:
            return "–"
        return self._("{rate}/yr", rate=f"{rate:+.{digits}%}")

    def points(self, value: float, digits: int = 1, signed: bool = False) -> str:
        """A difference of probabilities in percentage points (``signed``: with its sign)."""
        return self._("{n} pts", n=f"{100 * value:{'+' if signed else ''}.{digits}f}")

    def date(self, value: date | str | None) -> str:
        """A date as the language writes it in full (2026年11月27日, 27 November 2026)."""
        if value is None or value == "":
            return "–"
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        return format_date(value, format="long", locale=self.locale)


@lru_cache(maxsize=None)
def language(code: str = "en") -> Language:
    """The :class:`Language` of ``code`` (cached: its catalogue is read once)."""
    return Language(code)


def extract_notebook(fileobj, keywords, comment_tags, options):
    """Babel extractor for the notebooks' code cells (``babel.cfg``): the texts a notebook
    page writes with ``T._(...)``."""
    import json

    from babel.messages.extract import extract_python
    notebook = json.load(fileobj)
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell.get("source", []))
        # IPython's magics are not Python
        source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                           for line in source.splitlines())
        yield from extract_python(io.BytesIO(source.encode("utf-8")), keywords, comment_tags,
                                  options)


#: what holds reader-facing texts, relative to the project root, and how to read it
SOURCES = (("src/forecast/**/*.py", "python"), ("src/forecast/templates/*.j2", "jinja2"),
           ("notebooks/*.ipynb", extract_notebook))
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}


def extract_messages(root: Path):
    """Every text id of the project: a Babel :class:`~babel.messages.catalog.Catalog`."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_file

    catalog = Catalog(domain=DOMAIN, project="forecast")
    for pattern, method in SOURCES:
        for path in sorted(root.glob(pattern)):
            for lineno, message, comments, context in extract_from_file(
                    method, str(path), keywords=KEYWORDS, options={"trimmed": "true"}):
                catalog.add(message, None, [(str(path.relative_to(root)), lineno)],
                            auto_comments=comments, context=context)
    return catalog


def update_catalogues(root: Path) -> dict[str, tuple[int, int]]:
    """Merge the project's current text ids into every language's ``.po`` file (new ids
    untranslated, vanished ones dropped, translations kept); per language the number of ids
    and of those without a translation."""
    from babel.messages.pofile import write_po

    template = extract_messages(root)
    out = {}
    for lang in LANGUAGES:
        if lang == "en":
            continue
        po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        if po.is_file():
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=LOCALES[lang], domain=DOMAIN)
        else:
            from babel.messages.catalog import Catalog
            catalog = Catalog(locale=LOCALES[lang], domain=DOMAIN, project="forecast")
        catalog.update(template, no_fuzzy_matching=True)
        po.parent.mkdir(parents=True, exist_ok=True)
        with po.open("wb") as fh:
            write_po(fh, catalog, width=100, no_location=True, omit_header=False,
                     sort_output=True, ignore_obsolete=True)
        missing = sum(1 for m in catalog if m.id and not m.string)
        out[lang] = (sum(1 for m in catalog if m.id), missing)
    catalogue.cache_clear()
    return out
