from django.urls import path

from catalog.usage import views

urlpatterns = [
    path("unused/", views.unused, name="usage-unused"),
    path("sources/<slug:name>/query-text/", views.query_text_view, name="usage-query-text"),
]
