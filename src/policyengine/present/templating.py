"""The Jinja2 environment of the HTML pages: templates and the one stylesheet in templates/.

Autoescaping is on, so every text from a record or a policy is escaped unless a template or the
formatter marks it safe.  Jinja is imported here only, when a page is rendered, so the engine's
import stays light.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

TEMPLATES = Path(__file__).with_name("templates")


@lru_cache(maxsize=1)
def environment():
    import jinja2

    from . import format as f

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.ChainableUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters.update(cite=lambda text, lang: f.marked(f.citation(text, lang), lang),
                       version_label=lambda text, lang: f.marked(f.version_label(text, lang), lang),
                       unit=lambda text, lang: f.marked(f.unit(text, lang), lang),
                       breakable=_breakable)
    env.globals["stylesheet"] = stylesheet
    return env


def _breakable(ident):
    """An id that may break after its dots and underscores (long rule ids in narrow columns)."""
    from markupsafe import Markup, escape
    return Markup(str(escape(ident)).replace(".", ".<wbr>").replace("_", "_<wbr>"))


@lru_cache(maxsize=4)
def asset(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def stylesheet() -> str:
    from markupsafe import Markup
    return Markup(asset("style.css"))


def render(template: str, **context) -> str:
    """A template rendered.  MarkupSafe writes ' and " as &#39; and &#34;; they are written back as
    &#x27; and &quot; (the same characters, as html.escape writes them), so pages read as before."""
    html = environment().get_template(template).render(**context)
    return html.replace("&#39;", "&#x27;").replace("&#34;", "&quot;")
