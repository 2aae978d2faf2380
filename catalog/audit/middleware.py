from catalog.audit.context import WEB, audit_context


class AuditContextMiddleware:
    """Every write during a request is recorded with its user (read when written: an API token's user too),
    its address and its page. After AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with audit_context(origin=WEB, request=request):
            return self.get_response(request)
