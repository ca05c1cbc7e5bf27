"""The staff sign-in through the province's identity provider (settings.oidc_sign_in; paht.oidc_login speaks the
protocol). `/staff/login/oidc` sends the browser to the provider with a fresh state, nonce and PKCE verifier, kept
in the door's store for one use and bound to this browser by the `paht_oidc` cookie; the provider sends it back to
`/staff/login/oidc/callback`, which takes them once, trades the code, checks the ID token and opens the same login
session as the password's (the `paht_staff` cookie). Every failure is the login page with its message: the
provider down is no 5xx (the password form still works)."""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from paht import oidc_login, proxies, settings
from paht.web import http

from ..dependencies import StaffAccounts
from .web import page

log = logging.getLogger(__name__)

SIGN_IN_COOKIE = "paht_oidc"
SIGN_IN_MINUTES = 10             # from the button to the provider's answer
MAX_PARAM = 4096                 # a code or state longer than this is nobody's


@dataclass(frozen=True)
class SignInError:
    """A refusal of the provider's sign-in, shown as the login page's notice as an ApiError is (`staff/_error.html`).
    Page-only: no JSON API answers it."""
    code: str
    status: int
    message: str
    message_en: str
    detail: str | None = None
    fields: dict = field(default_factory=dict)
    retry_after: int | None = None


def problem(code: str, detail: str | None = None) -> SignInError:
    return SignInError(code, *PROBLEMS[code], detail=detail)


PROBLEMS = {
    "OIDC_NOT_CONFIGURED": (404, "Tỉnh chưa cấu hình đăng nhập bằng hệ thống định danh: vui lòng đăng nhập bằng tên "
                                 "đăng nhập và mật khẩu.",
                            "The province has not configured sign-in with its identity provider: sign in with a "
                            "username and password."),
    "OIDC_UNAVAILABLE": (200, "Hệ thống định danh của tỉnh hiện không phản hồi. Vui lòng thử lại sau ít phút, hoặc "
                              "đăng nhập bằng tên đăng nhập và mật khẩu.",
                         "The province's identity provider is not answering. Try again in a few minutes, or sign in "
                         "with a username and password."),
    "OIDC_STATE_INVALID": (400, "Phiên đăng nhập qua hệ thống định danh không hợp lệ hoặc đã hết hạn (đã dùng, quá "
                                "10 phút, hoặc mở từ trình duyệt khác). Vui lòng bấm đăng nhập lại.",
                           "This identity-provider sign-in is not valid or has expired (already used, over 10 "
                           "minutes old, or begun in another browser). Please sign in again."),
    "OIDC_REFUSED": (401, "Hệ thống định danh không xác nhận việc đăng nhập (bị từ chối, mã đã dùng, hoặc thông tin "
                          "định danh không hợp lệ). Vui lòng đăng nhập lại.",
                     "The identity provider did not confirm the sign-in (refused, a used code, or an invalid ID "
                     "token). Please sign in again."),
    "OIDC_NO_ROLE": (403, "Tài khoản định danh chưa được cấp vai trò trong hệ thống (vai trò; tỉnh và cơ quan với cán "
                          "bộ cơ quan). Vui lòng liên hệ quản trị hệ thống định danh của tỉnh.",
                     "The identity account has no role here (a role; a pack and an agency for agency staff). Ask "
                     "the province's identity administrator."),
}


def _param(request, name: str) -> str:
    value = request.args.get(name) or ""
    return value if len(value) <= MAX_PARAM else ""


class OidcSignIn:
    """The two steps of the provider's sign-in (mixed into StaffPages: `login_again`, `signed_in_now`)."""

    @http("GET", "/staff/login/oidc")
    @page
    def staff_oidc_begin(self, request, page):
        """The "Đăng nhập bằng …" button: to the provider's authorization endpoint (a link, not a form: the
        Content-Security-Policy's form-action 'self' would stop a form's redirect to another site)."""
        from .staff import safe_next
        target = safe_next(request.args.get("next"))
        config = settings.oidc_sign_in()
        if config is None:
            return self.login_again(request, page, "", target, problem("OIDC_NOT_CONFIGURED"))
        self.within_rate(f"login:{proxies.of_request(request)}")   # one sign-in counts once, here
        try:
            started = oidc_login.begin(config)
        except oidc_login.Unavailable as exc:
            log.warning("staff sign-in: the identity provider is unavailable (%s)", exc)
            return self.login_again(request, page, "", target, problem("OIDC_UNAVAILABLE"))
        binding = secrets.token_urlsafe(24)
        self.store.begin_sign_in(started.state, binding, {"nonce": started.nonce, "verifier": started.verifier,
                                                          "next": target},
                                 StaffAccounts.now() + timedelta(minutes=SIGN_IN_MINUTES))
        page.set_cookie(SIGN_IN_COOKIE, binding, max_age=SIGN_IN_MINUTES * 60)
        return page.redirect(started.url)

    @http("GET", "/staff/login/oidc/callback")
    @page
    def staff_oidc_callback(self, request, page):
        """The provider's answer: the sign-in of its state taken once (bound to this browser's cookie), the code
        traded and the ID token checked; then the login session's cookie, as the password's."""
        config = settings.oidc_sign_in()
        if config is None:
            return self.login_again(request, page, "", None, problem("OIDC_NOT_CONFIGURED"))
        binding = request.cookies.get(SIGN_IN_COOKIE, "")
        page.clear_cookie(SIGN_IN_COOKIE)
        state = _param(request, "state")
        flow = self.store.take_sign_in(state, binding) if state and binding else None
        if flow is None:
            return self.login_again(request, page, "", None, problem("OIDC_STATE_INVALID"))
        target = flow.get("next")
        if request.args.get("error"):      # RFC 6749 §4.1.2.1: the user or the provider said no
            detail = f"{_param(request, 'error')}: {_param(request, 'error_description')}"[:300].rstrip(": ")
            return self.login_again(request, page, "", target, problem("OIDC_REFUSED", detail))
        code = _param(request, "code")
        if not code:
            return self.login_again(request, page, "", target, problem("OIDC_REFUSED", "no code"))
        try:
            user = oidc_login.finish(config, code, flow["verifier"], flow["nonce"])
        except oidc_login.Unavailable as exc:
            log.warning("staff sign-in: the identity provider is unavailable (%s)", exc)
            return self.login_again(request, page, "", target, problem("OIDC_UNAVAILABLE"))
        except oidc_login.NoRole as exc:
            log.info("staff sign-in refused: %s", exc)
            return self.login_again(request, page, "", target, problem("OIDC_NO_ROLE"))
        except oidc_login.Refused as exc:
            log.info("staff sign-in refused: %s", exc)
            return self.login_again(request, page, "", target, problem("OIDC_REFUSED"))
        token = self.store.accounts.open_session(user, settings.session_minutes())
        return self.signed_in_now(page, token, target)
