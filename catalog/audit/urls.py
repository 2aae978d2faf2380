from django.urls import path

from catalog.audit import views

urlpatterns = [
    path("", views.audit_list, name="audit-list"),
]
