from django.urls import path

from catalog.quality import views

urlpatterns = [
    path("stale/", views.stale_list, name="stale-list"),
    path("datasets/<int:pk>/cadence/", views.freshness_cadence_view, name="freshness-cadence"),
]
