from django.urls import path

from catalog.search import views

urlpatterns = [
    path("", views.search_page, name="search"),
    path("suggest/", views.suggest, name="search-suggest"),
]
