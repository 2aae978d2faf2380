from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from catalog.alerts import views as alerts
from catalog.core.apiroot import CanonAPIRootView
from catalog.alerts.api import SubscriptionViewSet
from catalog.history import views as history
from catalog.history.api import ChangeViewSet, DatasetVersionList
from catalog.inventory import views as inventory
from catalog.inventory.api import DatasetViewSet
from catalog.metrics.api import MetricViewSet
from catalog.quality.api import FreshnessViewSet
from catalog.search.api import SearchAPIView
from catalog.sources import views as sources
from catalog.sources.api import SourceViewSet

router = DefaultRouter()
router.APIRootView = CanonAPIRootView
router.register("sources", SourceViewSet, basename="api-source")
router.register("datasets", DatasetViewSet, basename="api-dataset")
router.register("changes", ChangeViewSet, basename="api-change")
router.register("subscriptions", SubscriptionViewSet, basename="api-subscription")
router.register("metrics", MetricViewSet, basename="api-metric")
router.register("freshness", FreshnessViewSet, basename="api-freshness")

admin.site.site_header = "Canon administration"
admin.site.site_title = "Canon admin"
admin.site.index_title = "Sources, users, owners and settings"

# A URL under /api/ that names nothing (a negative id, say) is a JSON 404, as the schema documents.
handler404 = "catalog.core.errors.not_found"

urlpatterns = [
    path("", inventory.home, name="home"),
    path("sources/", sources.source_list, name="source-list"),
    path("sources/new/", sources.source_create_view, name="source-create"),
    path("sources/<slug:name>/", sources.source_detail, name="source-detail"),
    path("sources/<slug:name>/edit/", sources.source_edit_view, name="source-edit"),
    path("sources/<slug:name>/delete/", sources.source_delete_view, name="source-delete"),
    path("sources/<slug:name>/schemas/<path:schema>/", inventory.schema_detail, name="schema-detail"),
    path("sources/<slug:name>/test/", sources.source_test_view, name="source-test"),
    path("sources/<slug:name>/crawl/", sources.source_crawl_view, name="source-crawl"),
    path("sources/<slug:name>/confirm-removal/", sources.source_confirm_removal_view, name="source-confirm-removal"),
    path("sources/<slug:name>/schedule/", sources.source_schedule_view, name="source-schedule"),
    path("datasets/", inventory.dataset_list, name="dataset-list"),
    path("datasets/<int:pk>/", inventory.dataset_detail, name="dataset-detail"),
    path("datasets/<int:pk>/description/", inventory.dataset_describe_view, name="dataset-describe"),
    path("datasets/<int:pk>/columns/<int:column_id>/description/", inventory.column_describe_view, name="column-describe"),
    path("datasets/<int:pk>/history/", history.dataset_history, name="dataset-history"),
    path("datasets/<int:pk>/diff/", history.dataset_diff, name="dataset-diff"),
    path("changes/", history.change_list, name="change-list"),
    path("watching/", alerts.watching, name="watching"),
    path("watch/", alerts.watch, name="watch"),
    path("watching/<int:pk>/stop/", alerts.unwatch, name="unwatch"),
    path("watching/exclusions/<int:pk>/undo/", alerts.exclusion_undo, name="exclusion-undo"),
    path("watching/reset-links/", alerts.unsubscribe_links_reset_view, name="unsubscribe-links-reset"),
    path("unsubscribe/<str:token>/", alerts.unsubscribe, name="unsubscribe"),
    path("outbox/", alerts.outbox, name="outbox"),
    path("outbox/<int:pk>/retry/", alerts.outbox_retry, name="outbox-retry"),
    path("metrics/", include("catalog.metrics.urls")),
    path("search/", include("catalog.search.urls")),
    path("", include("catalog.quality.urls")),
    path("owners/", inventory.owner_list, name="owner-list"),
    path("owners/<int:pk>/map/", inventory.owner_map_view, name="owner-map"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/datasets/<int:pk>/versions/", DatasetVersionList.as_view(), name="api-dataset-versions"),
    path("api/search/", SearchAPIView.as_view(), name="api-search"),
    path("api/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema", title="Canon API reference"), name="api-docs"),
]
