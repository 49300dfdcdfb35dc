"""Reading a page as a person's browser would: its links, its GET forms with their default values, and the text of
an element. Standard library only (html.parser), shared by the crawler and the outcome tests."""

import re
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    def __init__(self, html, url="/"):
        super().__init__(convert_charrefs=True)
        self.url = url
        self.links = []  # dicts: href, rel, text, within (the "#id"/".class" keys of the elements around it)
        self.forms = []  # dicts: method, action, fields [(name, value)], choices {name: [values]}
        self.texts = {}  # "#id" and ".class" -> [text of each such element]
        self._open = []  # [(tag, keys, link or None)]
        self._form = None
        self._select = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        keys = ([f"#{attrs['id']}"] if attrs.get("id") else []) + [f".{c}" for c in (attrs.get("class") or "").split()]
        link = None
        if tag == "a" and attrs.get("href") is not None:
            within = {key for _tag, open_keys, _link in self._open for key in open_keys}
            link = {"href": attrs["href"], "rel": attrs.get("rel", ""), "text": "", "within": within}
            self.links.append(link)
        if tag == "form":
            self._form = {
                "method": (attrs.get("method") or "get").lower(),
                "action": attrs.get("action") or "",
                "fields": [],
                "choices": {},
            }
            self.forms.append(self._form)
        if self._form is not None:
            self.form_field(tag, attrs)
        if tag not in VOID:
            self._open.append((tag, keys, link))
            for key in keys:
                self.texts.setdefault(key, []).append("")

    def form_field(self, tag, attrs):
        name = attrs.get("name")
        kind = (attrs.get("type") or "text").lower()
        if tag == "input" and name and kind not in {"submit", "button", "reset", "image", "file"}:
            if kind in {"checkbox", "radio"}:
                self._form["choices"].setdefault(name, []).append(attrs.get("value", "on"))
                if "checked" in attrs:
                    self._form["fields"].append((name, attrs.get("value", "on")))
            else:
                self._form["fields"].append((name, attrs.get("value", "")))
        elif tag == "textarea" and name:
            self._form["fields"].append((name, ""))
        elif tag == "select" and name:
            self._select = {"name": name, "first": None, "selected": None}
        elif tag == "option" and self._select is not None:
            value = attrs.get("value", "")
            self._select["first"] = self._select["first"] if self._select["first"] is not None else value
            if "selected" in attrs:
                self._select["selected"] = value

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None and self._form is not None:
            value = self._select["selected"] if self._select["selected"] is not None else self._select["first"]
            self._form["fields"].append((self._select["name"], value or ""))
            self._select = None
        if tag == "form":
            self._form = None
        while self._open:
            open_tag, _keys, _link = self._open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        for _tag, keys, link in self._open:
            for key in keys:
                self.texts[key][-1] += data
            if link is not None:
                link["text"] += data

    # --- what a person reads --------------------------------------------------------------------------------

    def text(self, key):
        """The whitespace-normalised text of the first element with this "#id" or ".class" ('' when absent)."""
        found = self.texts.get(key) or [""]
        return " ".join(found[0].split())

    def link(self, rel=None, text=None):
        for link in self.links:
            if (rel is None or rel in link["rel"].split()) and (text is None or " ".join(link["text"].split()) == text):
                return link["href"]
        return None

    def absolute(self, href):
        return urljoin(self.url, href)

    def submit(self, form, **changes):
        """The URL a browser goes to when the GET form is submitted with its default values (and `changes`:
        name -> value or list of values, replacing what the form had)."""
        fields = [(name, value) for name, value in form["fields"] if name not in changes]
        for name, value in changes.items():
            for one in value if isinstance(value, list) else [value]:
                fields.append((name, one))
        return urljoin(self.url, form["action"] or urlsplit(self.url).path) + "?" + urlencode(fields)


def shown_count(page):
    """The number of projects a list page says it shows ("17 proyectos" in its results heading or totals)."""
    text = page.text("#resultados-titulo") or page.text(".totals")
    match = re.match(r"([\d,]+) proyectos?\b", text)
    assert match, f"no project count on {page.url}: {text!r}"
    return int(match.group(1).replace(",", ""))


def shown_money(page):
    """(total, FICOSEC) in pesos as the totals line says them: "· $1,234.50 en total · $1,000 de FICOSEC"."""
    text = page.text(".totals")
    total = re.search(r"\$([\d,]+(?:\.\d\d)?) en total", text)
    ficosec = re.search(r"\$([\d,]+(?:\.\d\d)?) de FICOSEC", text)
    assert total and ficosec, f"no totals on {page.url}: {text!r}"
    return tuple(Decimal(m.group(1).replace(",", "")) for m in (total, ficosec))


def shown_cards(page):
    """[(code, title)] of the project cards a list page shows, in their order."""
    codes = [" ".join(meta.split()).split()[-1] for meta in page.texts.get(".project-card__meta", [])]
    titles = [" ".join(title.split()) for title in page.texts.get(".project-card__title", [])]
    return list(zip(codes, titles, strict=True))
