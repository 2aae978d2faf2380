"""Pages behind a login when CANON_REQUIRE_LOGIN is on (the API's side: catalog.core.permissions).

The setting is read on each request, not when the middleware is made, so tests can switch it.
"""

from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from rest_framework.views import APIView


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    """With CANON_REQUIRE_LOGIN on, anonymous visitors of any page are sent to log in.

    Exempt: views marked with Django's ``login_not_required`` (the login page, the unsubscribe
    links, whose signed token is the credential), and the API, whose views answer 401 with
    ``WWW-Authenticate`` themselves (CatalogReadPermission) instead of a redirect a program
    cannot follow. Static files never reach a view (the web server or runserver's static handler).
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.CANON_REQUIRE_LOGIN:
            return None
        view_class = getattr(view_func, "cls", None)  # DRF's as_view() keeps the class there
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
