from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from catalog.inventory import views as inventory
from catalog.inventory.api import DatasetViewSet
from catalog.sources import views as sources
from catalog.sources.api import SourceViewSet

router = DefaultRouter()
router.register("sources", SourceViewSet, basename="api-source")
router.register("datasets", DatasetViewSet, basename="api-dataset")

urlpatterns = [
    path("", inventory.home, name="home"),
    path("sources/", sources.source_list, name="source-list"),
    path("sources/new/", sources.source_create_view, name="source-create"),
    path("sources/<slug:name>/", sources.source_detail, name="source-detail"),
    path("sources/<slug:name>/edit/", sources.source_edit_view, name="source-edit"),
    path("sources/<slug:name>/test/", sources.source_test_view, name="source-test"),
    path("sources/<slug:name>/crawl/", sources.source_crawl_view, name="source-crawl"),
    path("datasets/", inventory.dataset_list, name="dataset-list"),
    path("datasets/<int:pk>/", inventory.dataset_detail, name="dataset-detail"),
    path("datasets/<int:pk>/description/", inventory.dataset_describe_view, name="dataset-describe"),
    path("datasets/<int:pk>/columns/<int:column_id>/description/", inventory.column_describe_view, name="column-describe"),
    path("owners/", inventory.owner_list, name="owner-list"),
    path("owners/<int:pk>/map/", inventory.owner_map_view, name="owner-map"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
]
