"""What every page shares: the Jinja2 environment (autoescape everywhere, one gettext catalog per language), the
security headers (a strict Content-Security-Policy), the staff session cookie, the CSRF token of every form, and the
`page` decorator that answers any refusal as a page in the reader's language. The pages hold no rule or permission
of their own: they call what the JSON API calls."""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from datetime import datetime
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from paht import settings
from paht.errors import ApiError
from paht.rules import get_pack
from paht.states import LABELS, STEP_LABELS
from paht.worktime import calendar_for

from .catalog import catalog

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
LANGUAGES = ("vi", "en")
LANG_COOKIE, SESSION_COOKIE, CSRF_COOKIE = "paht_lang", "paht_staff", "paht_csrf"
DEFAULT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def language(request) -> str:
    asked = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    return asked if asked in LANGUAGES else "vi"


def local_time(value, pack_id: str | None = None) -> str:
    """dd/mm/yyyy HH:MM in the pack's time zone (the country's without a pack)."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    tz = DEFAULT_TZ
    if pack_id:
        try:
            tz = calendar_for(get_pack(pack_id).meta).tz
        except KeyError:
            pass
    return moment.astimezone(tz).strftime("%d/%m/%Y %H:%M")


def category_name(pack_id: str, code: str) -> str:
    """A category's name in its pack (the code when the pack does not name it)."""
    try:
        return (get_pack(pack_id).categories.get(code) or {}).get("name") or code
    except KeyError:
        return code


_STRONG = re.compile(r"\*\*(.+?)\*\*")


def letter_html(text: str | None) -> Markup:
    """A result letter as the packs write it (Markdown's **bold** only): escaped first, then the bold marked up."""
    return Markup(_STRONG.sub(r"<strong>\1</strong>", str(escape(text or ""))))


@cache
def environment(lang: str) -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    words = catalog(lang)
    env.install_gettext_callables(words.gettext, words.ngettext, newstyle=True)
    env.filters["local_time"] = local_time
    env.globals["state_label"] = lambda state: LABELS.get(state, (state, state))[0 if lang == "vi" else 1]
    env.globals["step_label"] = lambda step: STEP_LABELS.get(step, (step, step))[0 if lang == "vi" else 1]
    env.globals["category_name"] = category_name
    env.filters["letter"] = letter_html
    env.globals["lang"] = lang
    return env


def content_security_policy() -> str:
    images = "'self' data: blob:"
    tiles = settings.tile_url()
    if tiles:
        parts = urlsplit(tiles.replace("{s}", "a"))
        images += f" {parts.scheme}://{parts.netloc.replace('a.', '*.', 1) if '{s}' in tiles else parts.netloc}"
    return (f"default-src 'self'; img-src {images}; style-src 'self'; script-src 'self'; object-src 'none'; "
            "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def signed_in(store, request) -> dict | None:
    """The staff user whose login session the cookie holds (resolved as a bearer token is: staff.resolve)."""
    token = request.cookies.get(SESSION_COOKIE)
    return store.user_by_token(token) if token else None


def reader(service, request) -> dict | None:
    """Who reads an error page (its header shows their links), when that can still be found."""
    try:
        return signed_in(service.store, request)
    except Exception:  # noqa: BLE001 — the error page is shown anyway, as to a visitor
        return None


def secure_cookies() -> bool:
    return settings.environment() not in ("dev", "test")


def html(text: str, status: int = 200) -> Response:
    response = Response(text, status=status, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = content_security_policy()
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- CSRF: a random cookie and, in every form, its HMAC (a cross-site page can read neither) --------------------
def _mac(value: str) -> str:
    return hmac.new(settings.internal_secret(), f"csrf:{value}".encode(), hashlib.sha256).hexdigest()


def csrf_cookie(request) -> str:
    value = request.cookies.get(CSRF_COOKIE, "")
    return value if 20 <= len(value) <= 100 else ""


def check_csrf(request) -> None:
    """A POST of one of our forms: its token is the MAC of the visitor's CSRF cookie; anything else is 403."""
    cookie, given = csrf_cookie(request), request.form.get("csrf_token", "")
    if not cookie or not hmac.compare_digest(_mac(cookie), given):
        raise ApiError("FORBIDDEN", detail="CSRF token missing or wrong: reload the page and send the form again")


class Page:
    """One page being answered: its language, CSRF token and cookies to set."""

    def __init__(self, request):
        self.request = request
        self.lang = language(request)
        self.cookies: dict[str, tuple[str, dict]] = {}
        self.csrf = csrf_cookie(request)
        if not self.csrf:
            self.csrf = secrets.token_urlsafe(24)
            self.set_cookie(CSRF_COOKIE, self.csrf)
        if request.args.get("lang") in LANGUAGES:
            self.set_cookie(LANG_COOKIE, self.lang, http_only=False, max_age=365 * 86400)

    def set_cookie(self, name: str, value: str, http_only: bool = True, max_age: int | None = None) -> None:
        self.cookies[name] = (value, {"httponly": http_only, "samesite": "Lax", "secure": secure_cookies(),
                                      "max_age": max_age, "path": "/"})

    def clear_cookie(self, name: str) -> None:
        self.set_cookie(name, "", max_age=0)

    def render(self, template: str, status: int = 200, **context) -> Response:
        text = environment(self.lang).get_template(template).render(
            csrf_token=_mac(self.csrf), path=self.request.path, **context)
        return self.finish(html(text, status))

    def redirect(self, location: str) -> Response:
        return self.finish(Response("", status=303, headers={"Location": location}))

    def finish(self, response: Response) -> Response:
        for name, (value, options) in self.cookies.items():
            response.set_cookie(name, value, **options)
        return response


def error_page(page: Page, error: ApiError, user: dict | None = None) -> Response:
    response = page.render("error.html", status=error.status, error=error, user=user)
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def page(handler):
    """A page entrypoint: `handler(self, request, page, *path values)`; a refusal is the error page (its status, the
    API's message in the reader's language), anything unexpected a 500 page, logged."""
    def wrapper(self, request, *values, **named):
        current = Page(request)
        try:
            if request.method == "POST":
                check_csrf(request)
            return handler(self, request, current, *values, **named)
        except ApiError as exc:
            return error_page(current, exc, reader(self, request))
        except HTTPException as exc:
            from paht.web import http_error
            return error_page(current, http_error(exc), reader(self, request))
        except Exception:  # noqa: BLE001 — the reader gets a page, the log the trace
            log.exception("unhandled error in page %s", handler.__name__)
            return error_page(current, ApiError("INTERNAL_ERROR"))
    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    wrapper.portal_page = True   # the portal's, not the JSON API's: the OpenAPI document leaves it out
    return wrapper
