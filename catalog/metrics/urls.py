from django.urls import path

from catalog.metrics import views

urlpatterns = [
    path("", views.metric_list, name="metric-list"),
    path("new/", views.metric_create, name="metric-create"),
    path("check/", views.metric_check_view, name="metric-check"),
    path("compare/", views.metric_compare, name="metric-compare"),
    path("<slug:name>/", views.metric_detail, name="metric-detail"),
    path("<slug:name>/edit/", views.metric_edit, name="metric-edit"),
    path("<slug:name>/versions/", views.metric_versions, name="metric-versions"),
    path("<slug:name>/versions/<int:number>/restore/", views.metric_restore_view, name="metric-restore"),
    path("<slug:name>/status/", views.metric_status_view, name="metric-status"),
    path("<slug:name>/watch/", views.metric_watch_view, name="metric-watch"),
    path("<slug:name>/synonyms/", views.metric_synonym_view, name="metric-synonym"),
    path("<slug:name>/recheck/", views.metric_recheck_view, name="metric-recheck"),
]
