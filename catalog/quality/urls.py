from django.urls import path

from catalog.quality import views

urlpatterns = [
    path("stale/", views.stale_list, name="stale-list"),
    path("datasets/<int:pk>/cadence/", views.freshness_cadence_view, name="freshness-cadence"),
    path("datasets/<int:pk>/sensitive/", views.column_sensitive_view, name="column-sensitive"),
    path("profile-alerts/", views.profile_alerts_view, name="profile-alerts"),
    path("sources/<slug:name>/sampling/", views.sampling_view, name="source-sampling"),
]
