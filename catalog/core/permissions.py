"""Who may use the API: CANON_REQUIRE_LOGIN decides reading, per request (pages: catalog.core.middleware).

Imported by DRF's settings while rest_framework.views loads: import nothing from rest_framework.views here.
"""

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS, BasePermission


class CatalogReadPermission(BasePermission):
    """Writing needs a login; reading too when CANON_REQUIRE_LOGIN is on.

    With TokenAuthentication first among the authentication classes, a refusal for want of
    credentials is a 401 with ``WWW-Authenticate: Token`` (a bad token is refused the same way
    before this is asked).
    """

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS and not settings.CANON_REQUIRE_LOGIN:
            return True
        return bool(request.user and request.user.is_authenticated)

