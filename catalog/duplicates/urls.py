from django.urls import path

from catalog.duplicates import views

urlpatterns = [
    path("", views.duplicate_list, name="duplicate-list"),
    path("decide/", views.duplicate_decide_view, name="duplicate-decide"),
]
